neosl_test(devchain_chain_test SOURCES chain_test.cpp DEPS neosl_devchain neosl_test_support LABELS unit)
