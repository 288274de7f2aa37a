# attestation: evidence, the simulated quoting enclave, the verifier.
list(APPEND NEOSL_TEE_SOURCES attestation.cpp sim_quote.cpp verifier.cpp)

# The sgx backend's DCAP quote verification needs Intel's Quote Verification Library
# (libsgx-dcap-quote-verify-dev), which our CI machines do not have: off by default, and the code
# behind it is untested (docs/attestation.md).
option(NEOSL_TEE_SGX "Build DCAP quote verification for the sgx attestation backend" OFF)
if(NEOSL_TEE_SGX)
  find_library(NEOSL_SGX_DCAP_QUOTEVERIFY sgx_dcap_quoteverify REQUIRED)
  find_path(NEOSL_SGX_DCAP_INCLUDE sgx_dcap_quoteverify.h PATHS /opt/intel/sgxsdk/include /usr/include REQUIRED)
  set_source_files_properties(verifier.cpp PROPERTIES
    COMPILE_DEFINITIONS NEOSL_TEE_SGX=1
    INCLUDE_DIRECTORIES ${NEOSL_SGX_DCAP_INCLUDE})
  list(APPEND NEOSL_TEE_DEPS ${NEOSL_SGX_DCAP_QUOTEVERIFY})
endif()
