# Compiles one line, #include "HEADER", with the include directories a part
# of src/ compiles with (INCLUDES), and checks the outcome: EXPECT=found
# (the part may use the header) or EXPECT=missing (the part does not depend
# on the header's part, so the compiler must not find it).
#   cmake -DCXX=... -DINCLUDES=a;b -DHEADER=x/y.hpp -DEXPECT=found|missing -DWORK=dir -P probe.cmake
foreach(var CXX INCLUDES HEADER EXPECT WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "probe.cmake: ${var} is not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK})
string(MAKE_C_IDENTIFIER "${HEADER}" _stem)
set(_src ${WORK}/${_stem}.cpp)
file(WRITE ${_src} "#include \"${HEADER}\"\n")
set(_flags -std=c++20 -fsyntax-only)
foreach(dir IN LISTS INCLUDES)
  list(APPEND _flags -I${dir})
endforeach()
execute_process(COMMAND ${CXX} ${_flags} ${_src}
                RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
# gcc: "x/y.hpp: No such file or directory"; clang: "'x/y.hpp' file not found".
string(FIND "${_out}" "${HEADER}" _names_header)
if(_out MATCHES "No such file or directory|file not found" AND NOT _names_header EQUAL -1)
  set(_missing TRUE)
else()
  set(_missing FALSE)
endif()
if(EXPECT STREQUAL "missing")
  if(NOT _missing)
    message(FATAL_ERROR "\"${HEADER}\" is reachable where the layers forbid it:\n${_out}")
  endif()
elseif(EXPECT STREQUAL "found")
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "\"${HEADER}\" does not compile where the layers allow it:\n${_out}")
  endif()
else()
  message(FATAL_ERROR "probe.cmake: EXPECT is found or missing, not '${EXPECT}'")
endif()
