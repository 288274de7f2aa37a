# Withdrawals (src/services/gasbank/withdrawals.h) against a real devchain in-process
# (127.0.0.1:0), a real chain_tx::Outbox signing with a funded hot wallet, and a SQLite store:
# settle, replay, refusals, returns (test run and on-chain FAULT), Recover, concurrent requests.
neosl_test(gasbank_withdrawals_test
  SOURCES withdrawals_test.cpp
  DEPS neosl_gasbank_chain neosl_gasbank_ledger neosl_gasbank_fees neosl_chain_tx neosl_chain_requests neosl_devchain
       neosl_schema neosl_store neosl_neo neosl_crypto neosl_core neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 300
  POSTGRES)
