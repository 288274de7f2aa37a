# Cron schedules in named time zones (cron.h) and the TZif reader under them (tzif.h).
neosl_test(automation_tzif_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tzif_test.cpp
           DEPS neosl_automation_schedule neosl_core LABELS unit)
neosl_test(automation_cron_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cron_test.cpp
           DEPS neosl_automation_schedule neosl_core LABELS unit)
