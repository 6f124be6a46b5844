"""Price books (PRODUCT.md §3): dated, immutable versions of IaaS rates or on-prem fixed costs."""
