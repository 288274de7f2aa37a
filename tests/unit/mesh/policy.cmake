# mesh policy tests: authz and rate-limit YAML (against the seed's examples and deploy/mesh/*.yaml),
# backoff and the circuit breaker.
neosl_test(mesh_policy_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/policy_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/resilience_test.cpp
  DEPS neosl_mesh_policy
  LABELS unit)
# The test reads deploy/mesh/*.yaml to check they say what the embedded defaults say.
target_compile_definitions(mesh_policy_test PRIVATE NEOSL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
