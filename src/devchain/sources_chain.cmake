# Ledger, mempool, persistence and block production.
list(APPEND NEOSL_DEVCHAIN_SOURCES)
