# neosl_enclave_proto: the C++ code protoc generates from enclave.proto, in the build tree.
# The generated code is not ours, so it does not get neosl_apply_flags (no -Werror on it).
add_library(neosl_enclave_proto STATIC ${CMAKE_CURRENT_SOURCE_DIR}/enclave.proto)
protobuf_generate(TARGET neosl_enclave_proto LANGUAGE cpp
                  IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR}
                  PROTOC_OUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(neosl_enclave_proto PUBLIC protobuf::libprotobuf)
# SYSTEM: the generated headers' own warnings do not fail the code that includes them.
target_include_directories(neosl_enclave_proto SYSTEM PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
