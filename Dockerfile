# csr-approver container image.
#
#   docker build -t csr-approver:dev --build-arg VERSION=$(git describe --tags --always) .
#
# Two stages: a Debian 12 builder with the -dev packages, and a slim Debian 12
# runtime with only the shared libraries the binary links (docs/install.md
# lists them) and the CA certificates. Runs as 65532, the user the Helm
# chart's securityContext expects, with a read-only root filesystem: the
# binary writes nothing to disk.
#
# `make image` (hack/image.sh) builds a smaller image without a daemon or a
# base image: the binary and exactly the libraries it loads, no shell.

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config ca-certificates \
      libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY cmd/ cmd/
COPY pkg/ pkg/
# No .git in the build context: the version comes in as build arguments.
ARG VERSION=dev
ARG COMMIT=unknown
RUN make -j"$(nproc)" VERSION="${VERSION}" COMMIT="${COMMIT}" build/csr-approver \
 && strip --strip-unneeded build/csr-approver \
 && build/csr-approver version

FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4 libjansson4 libyaml-0-2 libssl3 libmicrohttpd12 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/csr-approver /usr/local/bin/csr-approver
ARG VERSION=dev
LABEL org.opencontainers.image.title="csr-approver" \
      org.opencontainers.image.description="Approves Kubernetes CertificateSigningRequests after checking every name against the requester's identity" \
      org.opencontainers.image.version="${VERSION}"
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/csr-approver"]
CMD ["run"]
