# ApplicationEngine and the contracts.
neosl_test(devchain_engine_test SOURCES engine_test.cpp native_test.cpp DEPS neosl_devchain LABELS unit)
