# Scripts, contract parameters, accounts, wallets and fees (src/neo/sources_accounts.cmake).
list(APPEND NEOSL_NEO_TEST_SOURCES accounts_script_test.cpp accounts_account_test.cpp accounts_wallet_test.cpp
     accounts_fee_test.cpp)
