module csr-approver/tests/soak/loadgen

go 1.22
