# The Python test suites (tests/e2e, tests/python) as ctest tests, through
# tests/e2e/run.py: each test that can skip is a ctest test of its own,
# which ctest reports as skipped (exit 77) with its reason; the rest of a
# module is one ctest test PREFIX.<module>.
#
# They run with Debian's /usr/bin/python3, the interpreter the loopback
# servers' modules, the aws tool and the bakthat module are installed for;
# a python3 found first on PATH (a pyenv shim) is another one. Elsewhere,
# the python3 on PATH.
if(EXISTS /usr/bin/python3)
  set(BAKTHAT_TEST_PYTHON /usr/bin/python3)
else()
  find_program(BAKTHAT_TEST_PYTHON python3 REQUIRED)
endif()

# bakthat_python_tests(PREFIX LABEL
#                      [LIST_ENVIRONMENT VAR=VALUE...]  for run.py --list-skippable
#                      [ENVIRONMENT VAR=VALUE...])      for the tests
# registers the test_*.py of the calling folder.
function(bakthat_python_tests prefix label)
  cmake_parse_arguments(ARG "" "" "LIST_ENVIRONMENT;ENVIRONMENT" ${ARGN})
  set(_run ${PROJECT_SOURCE_DIR}/tests/e2e/run.py)
  file(GLOB _tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.py)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_tests} ${_run})
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONDONTWRITEBYTECODE=1 ${ARG_LIST_ENVIRONMENT}
                          ${BAKTHAT_TEST_PYTHON} ${_run} --list-skippable ${_tests}
                  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
                  OUTPUT_VARIABLE _skippable RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "tests/e2e/run.py --list-skippable failed for ${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  string(REGEX REPLACE "\n$" "" _skippable "${_skippable}")
  string(REPLACE "\n" ";" _skippable "${_skippable}")
  set(_modules)
  foreach(src IN LISTS _tests)
    get_filename_component(_name ${src} NAME_WE)
    list(APPEND _modules ${_name})
  endforeach()
  foreach(_test IN LISTS _modules _skippable)
    add_test(NAME ${prefix}.${_test}
             COMMAND ${BAKTHAT_TEST_PYTHON} ${_run} ${_test}
             WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties(${prefix}.${_test} PROPERTIES
        TIMEOUT 1200
        SKIP_RETURN_CODE 77
        LABELS ${label}
        ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;${ARG_ENVIRONMENT}")
  endforeach()
endfunction()
