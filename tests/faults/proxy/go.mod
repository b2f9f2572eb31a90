module csr-approver.test/faultproxy

go 1.22
