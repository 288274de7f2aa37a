# Accounts, scripts and wallets: NeoVM script building, contract parameters, standard accounts,
# WIF / NEP-2 / NEP-6 and network fees.
list(APPEND NEOSL_NEO_SOURCES script_builder.cpp interop.cpp contract_param.cpp account.cpp wallet.cpp fee.cpp)
