# Installation: the static library, the public headers and the CLI, with a
# CMake package (find_package(bakthat) -> bakthat::bakthat) and a pkg-config
# file (bakthat.pc). Included from src/CMakeLists.txt once every part exists.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

add_library(bakthat::bakthat ALIAS bakthat)

# An installed static library needs its parts' external dependencies: the
# non-bakthat entries of every part's link interface.
set(_bakthat_deps "")
foreach(part IN LISTS BAKTHAT_PARTS)
  get_target_property(_libs bakthat_${part} INTERFACE_LINK_LIBRARIES)
  foreach(lib IN LISTS _libs)
    if(lib AND NOT lib MATCHES "^bakthat_")
      list(APPEND _bakthat_deps ${lib})
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _bakthat_deps)
# bakthatConfig.cmake.in and bakthat.pc.in must provide each of them: a part
# that gains a dependency must be added there too.
set(_bakthat_known nlohmann_json::nlohmann_json Threads::Threads OpenSSL::Crypto CURL::libcurl
    pugixml::pugixml isal::isal PkgConfig::LIBARCHIVE PkgConfig::LIBDEFLATE PkgConfig::ZSTD
    PkgConfig::ZLIB PkgConfig::SQLITE PkgConfig::YAMLCPP ${CMAKE_DL_LIBS})
foreach(dep IN LISTS _bakthat_deps)
  if(NOT dep IN_LIST _bakthat_known)
    message(WARNING "bakthat: '${dep}' is not provided by cmake/bakthatConfig.cmake.in and "
                    "cmake/bakthat.pc.in: the installed library will not link until they are updated")
  endif()
endforeach()
foreach(dep IN LISTS _bakthat_deps)
  target_link_libraries(bakthat INTERFACE "$<INSTALL_INTERFACE:${dep}>")
endforeach()
target_include_directories(bakthat INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(bakthat INTERFACE cxx_std_20)

install(TARGETS bakthat EXPORT bakthatTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# install/strip (and cpack, CPACK_STRIP_FILES) strips executables and shared
# libraries only; this strips the static library of its debug information
# too (nine tenths of its size in a RelWithDebInfo build) and keeps its
# symbols for linking.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
                    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:bakthat>\"
                    COMMAND_ERROR_IS_FATAL ANY)
  endif()")
install(TARGETS bakthat_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The sync server `bakthat sync` meets other machines at (Python 3 only).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/tools/bakthat-syncserver DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bakthat DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")

set(_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/bakthat)
install(EXPORT bakthatTargets NAMESPACE bakthat:: DESTINATION ${_cmakedir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bakthatConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/bakthatConfig.cmake INSTALL_DESTINATION ${_cmakedir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/bakthatConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/bakthatConfig.cmake ${PROJECT_BINARY_DIR}/bakthatConfigVersion.cmake
        DESTINATION ${_cmakedir})

# bakthat.pc finds its prefix from its own place (${pcfiledir}), so an
# installation moved or made with `cmake --install --prefix` still works.
set(BAKTHAT_PC_DL "")
foreach(lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND BAKTHAT_PC_DL " -l${lib}")
endforeach()
file(RELATIVE_PATH BAKTHAT_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" BAKTHAT_PC_TO_PREFIX "${BAKTHAT_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/bakthat.pc.in ${PROJECT_BINARY_DIR}/bakthat.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bakthat.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
