# relay tests
neosl_test(tee_relay_test SOURCES tls_relay_test.cpp DEPS neosl_tee neosl_test_support LABELS unit)
