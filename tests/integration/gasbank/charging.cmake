# GasCharger (services/gasbank/charging.h), the services' side of the bank's holds, against a test
# double of the GasBank service on an in-process mesh (tests/unit/services/functions/fake_gas_bank.h).
neosl_test(gasbank_charging_test
  SOURCES charging_test.cpp
  DEPS neosl_gasbank_charging neosl_gasbank_fees neosl_mesh neosl_service_proto neosl_core
  LABELS integration
  TIMEOUT 60
  POSTGRES)
