# sealing tests: ECIES (src/crypto/ecies.cpp), measurement and sigstructs, sealing, enclave keys.
neosl_test(tee_sealing_test
  SOURCES ecies_test.cpp sealing_test.cpp keys_test.cpp
  DEPS neosl_tee neosl_crypto Boost::json OpenSSL::Crypto
  LABELS unit)
