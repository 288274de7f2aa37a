# Deposits (src/services/gasbank/deposits.h) against a real devchain in-process (127.0.0.1:0),
# followed over WebSocket and by polling, and a SQLite store: real signed GAS and NEO transfers to
# addresses derived as the enclave derives them; confirmations, restarts and replays.
neosl_test(gasbank_deposits_test
  SOURCES deposits_test.cpp
  DEPS neosl_gasbank_chain neosl_gasbank_ledger neosl_tee neosl_chain_requests neosl_devchain neosl_schema
       neosl_store neosl_neo neosl_crypto neosl_core neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 180
  POSTGRES)
# The deposit_key ECALL through the real enclave (`neosl enclave` under tee::EnclaveHost).
neosl_test(gasbank_deposit_key_enclave_test
  SOURCES deposit_key_enclave_test.cpp
  DEPS neosl_tee neosl_crypto neosl_test_store
  LABELS integration
  TIMEOUT 120)
add_dependencies(gasbank_deposit_key_enclave_test neosl)
