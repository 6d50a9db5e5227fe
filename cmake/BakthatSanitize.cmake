# BAKTHAT_SANITIZE instruments every target of the tree (clang from Debian):
#   address  ASan + UBSan (LeakSanitizer included)
#   thread   TSan
# A report is fatal (-fno-sanitize-recover, and halt_on_error in the run-time
# options scripts/test-sanitized.sh sets), so a finding fails the test that
# made it. scripts/test-sanitized.sh builds such a tree with only the test
# executables and fuzzers and runs them; `make test` calls it.
set(BAKTHAT_SANITIZE "" CACHE STRING "Instrument every target: address (ASan+UBSan) or thread (TSan); clang")
set_property(CACHE BAKTHAT_SANITIZE PROPERTY STRINGS "" address thread)

if(BAKTHAT_SANITIZE STREQUAL "")
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "BAKTHAT_SANITIZE needs clang (-DCMAKE_CXX_COMPILER=clang++), not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(BAKTHAT_SANITIZE STREQUAL "address")
  set(_flags -fsanitize=address,undefined -fno-sanitize-recover=all)
elseif(BAKTHAT_SANITIZE STREQUAL "thread")
  set(_flags -fsanitize=thread)
else()
  message(FATAL_ERROR "BAKTHAT_SANITIZE is address or thread, not ${BAKTHAT_SANITIZE}")
endif()
# Frame pointers keep the reports' stacks whole at -O2.
add_compile_options(${_flags} -fno-omit-frame-pointer)
add_link_options(${_flags})
