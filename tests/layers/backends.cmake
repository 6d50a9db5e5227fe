# The parts above storage reach a destination through the Storage interface
# (include/bakthat/storage.hpp) and storage/factory.hpp, never through one
# backend's header: no source of SOURCES' folders (a list) includes
# storage/<backend>/..., except what a backend asks of its callers
# (storage/glacier/inventory_store.hpp).
#   cmake -DSOURCES=dir;dir -P backends.cmake
set(_bad "")
foreach(dir IN LISTS SOURCES)
  file(GLOB_RECURSE _files ${dir}/*.cpp ${dir}/*.hpp)
  foreach(f IN LISTS _files)
    file(STRINGS ${f} _lines REGEX "^#include \"storage/(local|s3|swift|glacier|memory)/")
    foreach(line IN LISTS _lines)
      if(NOT line MATCHES "storage/glacier/inventory_store.hpp")
        list(APPEND _bad "${f}: ${line}")
      endif()
    endforeach()
  endforeach()
endforeach()
if(_bad)
  list(JOIN _bad "\n" _text)
  message(FATAL_ERROR "a backend's header included above storage:\n${_text}")
endif()
