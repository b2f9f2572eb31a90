/*
 * controller: the work queue. A map from key to item and a binary min-heap
 * of the queued items ordered by (due time, insertion sequence). An item
 * stays in the map while it is queued or has a backoff to remember.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "controller.h"
#include "internal.h"

struct queue_item {
	char *key; /* owned */
	int64_t due_ms;
	uint64_t seq;
	long heap_idx; /* -1 when not queued */
	unsigned failures;
};

struct controller_queue {
	struct controller_map items; /* key -> struct queue_item */
	struct queue_item **heap; /* owned array of borrowed items */
	size_t n_heap, cap_heap;
	uint64_t seq;
	int64_t base_ms, max_ms;
};

struct controller_queue *controller_queue_new(int64_t base_ms, int64_t max_ms)
{
	struct controller_queue *q = util_xcalloc(1, sizeof(*q));
	q->base_ms = base_ms > 0 ? base_ms : 1;
	q->max_ms = max_ms >= q->base_ms ? max_ms : q->base_ms;
	return q;
}

static void queue_item_free(void *p)
{
	struct queue_item *it = p;
	if (it == NULL)
		return;
	free(it->key);
	free(it);
}

void controller_queue_free(struct controller_queue *q)
{
	if (q == NULL)
		return;
	controller_map_clear(&q->items, queue_item_free);
	free(q->heap);
	free(q);
}

static bool queue_less(const struct queue_item *a, const struct queue_item *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->seq < b->seq;
}

static void queue_swap(struct controller_queue *q, size_t i, size_t j)
{
	struct queue_item *t = q->heap[i];
	q->heap[i] = q->heap[j];
	q->heap[j] = t;
	q->heap[i]->heap_idx = (long)i;
	q->heap[j]->heap_idx = (long)j;
}

static void queue_up(struct controller_queue *q, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!queue_less(q->heap[i], q->heap[parent]))
			break;
		queue_swap(q, i, parent);
		i = parent;
	}
}

static void queue_down(struct controller_queue *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->n_heap && queue_less(q->heap[l], q->heap[m]))
			m = l;
		if (r < q->n_heap && queue_less(q->heap[r], q->heap[m]))
			m = r;
		if (m == i)
			break;
		queue_swap(q, i, m);
		i = m;
	}
}

/* Take it out of the heap (it must be in it). */
static void queue_unlink(struct controller_queue *q, struct queue_item *it)
{
	size_t i = (size_t)it->heap_idx;
	size_t last = q->n_heap - 1;
	if (i != last) {
		queue_swap(q, i, last);
		q->n_heap--;
		queue_down(q, i);
		queue_up(q, i);
	} else {
		q->n_heap--;
	}
	it->heap_idx = -1;
}

/* Drop the item from the map when nothing about it needs remembering. */
static void queue_maybe_drop(struct controller_queue *q, struct queue_item *it)
{
	if (it->heap_idx < 0 && it->failures == 0) {
		controller_map_remove(&q->items, it->key);
		queue_item_free(it);
	}
}

static struct queue_item *queue_item_get(struct controller_queue *q, const char *key)
{
	struct queue_item *it = controller_map_get(&q->items, key);
	if (it == NULL) {
		it = util_xcalloc(1, sizeof(*it));
		it->key = util_xstrdup(key);
		it->heap_idx = -1;
		controller_map_put(&q->items, key, it);
	}
	return it;
}

void controller_queue_add_after(struct controller_queue *q, const char *key, int64_t now_ms,
                                int64_t delay_ms)
{
	int64_t due = now_ms + (delay_ms > 0 ? delay_ms : 0);
	struct queue_item *it = queue_item_get(q, key);
	if (it->heap_idx >= 0) {
		if (due < it->due_ms) {
			it->due_ms = due;
			queue_up(q, (size_t)it->heap_idx);
		}
		return;
	}
	if (q->n_heap == q->cap_heap) {
		q->cap_heap = q->cap_heap ? q->cap_heap * 2 : 16;
		q->heap = util_xreallocarray(q->heap, q->cap_heap, sizeof(*q->heap));
	}
	it->due_ms = due;
	it->seq = q->seq++;
	it->heap_idx = (long)q->n_heap;
	q->heap[q->n_heap++] = it;
	queue_up(q, (size_t)it->heap_idx);
}

void controller_queue_add(struct controller_queue *q, const char *key, int64_t now_ms)
{
	controller_queue_add_after(q, key, now_ms, 0);
}

static int64_t queue_delay(const struct controller_queue *q, unsigned failures)
{
	int64_t d = q->base_ms;
	for (unsigned i = 0; i < failures && d < q->max_ms; i++)
		d *= 2;
	return d < q->max_ms ? d : q->max_ms;
}

int64_t controller_queue_backoff(const struct controller_queue *q, const char *key)
{
	const struct queue_item *it = controller_map_get(&q->items, key);
	return queue_delay(q, it != NULL ? it->failures : 0);
}

int64_t controller_queue_add_rate_limited(struct controller_queue *q, const char *key,
                                          int64_t now_ms)
{
	struct queue_item *it = queue_item_get(q, key);
	int64_t d = queue_delay(q, it->failures);
	if (it->failures < 64)
		it->failures++;
	controller_queue_add_after(q, key, now_ms, d);
	return d;
}

void controller_queue_forget(struct controller_queue *q, const char *key)
{
	struct queue_item *it = controller_map_get(&q->items, key);
	if (it == NULL)
		return;
	it->failures = 0;
	queue_maybe_drop(q, it);
}

void controller_queue_remove(struct controller_queue *q, const char *key)
{
	struct queue_item *it = controller_map_get(&q->items, key);
	if (it == NULL)
		return;
	if (it->heap_idx >= 0)
		queue_unlink(q, it);
	it->failures = 0;
	queue_maybe_drop(q, it);
}

unsigned controller_queue_requeues(const struct controller_queue *q, const char *key)
{
	const struct queue_item *it = controller_map_get(&q->items, key);
	return it != NULL ? it->failures : 0;
}

char *controller_queue_pop(struct controller_queue *q, int64_t now_ms)
{
	if (q->n_heap == 0 || q->heap[0]->due_ms > now_ms)
		return NULL;
	struct queue_item *it = q->heap[0];
	char *key = util_xstrdup(it->key);
	queue_unlink(q, it);
	queue_maybe_drop(q, it);
	return key;
}

bool controller_queue_contains(const struct controller_queue *q, const char *key)
{
	const struct queue_item *it = controller_map_get(&q->items, key);
	return it != NULL && it->heap_idx >= 0;
}

int64_t controller_queue_next_due(const struct controller_queue *q)
{
	return q->n_heap > 0 ? q->heap[0]->due_ms : -1;
}

size_t controller_queue_len(const struct controller_queue *q)
{
	return q->n_heap;
}
