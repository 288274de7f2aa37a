# What a firing does (actions.h): the firing's JSON, outcomes and function actions over an
# in-process mesh with a fake functions service; webhooks against a loopback server through a
# real SocketRelay (allowed and refused); contract calls through a real outbox on a devchain. All
# paid for through the fake gas bank (unit/services/charging_harness.h).
neosl_test(automation_actions_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/actions_test.cpp
           DEPS neosl_automation_actions neosl_gasbank_fees neosl_schema neosl_store neosl_test_support LABELS unit)
neosl_test(automation_actions_webhook_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/actions_webhook_test.cpp
           DEPS neosl_automation_actions neosl_gasbank_fees neosl_schema neosl_store neosl_net_test_server
                neosl_test_support
           LABELS unit)
neosl_test(automation_actions_contract_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/actions_contract_test.cpp
           DEPS neosl_automation_actions neosl_devchain neosl_gasbank_fees neosl_schema neosl_store neosl_test_support
                Boost::json
           LABELS integration
           TIMEOUT 180)
