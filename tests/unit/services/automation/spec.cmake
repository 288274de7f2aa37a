# The trigger model (trigger.h): specs as stored JSON, backoff, names and run ids; the API's checks
# (spec.h), the canonical text of parameters and rendering; and the REST routes' table: roles,
# schemas, and the payload and context carried as JSON values.
neosl_test(automation_trigger_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/trigger_test.cpp
           DEPS neosl_automation_model neosl_core LABELS unit)
neosl_test(automation_spec_test
           SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/spec_test.cpp ${CMAKE_CURRENT_SOURCE_DIR}/spec_render_test.cpp
           DEPS neosl_automation_model neosl_neo neosl_crypto neosl_core LABELS unit)
neosl_test(automation_rest_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/rest_test.cpp
           DEPS neosl_gateway neosl_automation_model neosl_service_proto neosl_core LABELS unit)
