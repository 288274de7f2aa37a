# Many due times on one thread (timer_wheel.h): the heap on its own, and the runner driven by a
# manual clock.
neosl_test(automation_timer_wheel_test SOURCES timer_wheel_test.cpp
           DEPS neosl_automation_timers neosl_core LABELS unit)
neosl_test(automation_timer_runner_test SOURCES timer_runner_test.cpp
           DEPS neosl_automation_timers neosl_core LABELS unit)
