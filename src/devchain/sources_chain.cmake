# Ledger, mempool, persistence and block production.
list(APPEND NEOSL_DEVCHAIN_SOURCES chain.cpp chain_mempool.cpp chain_query.cpp)
