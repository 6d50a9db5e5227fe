# The man page, the shell completions and the Debian package. Included from
# CMakeLists.txt once every installed target exists.
#
# The man page and the completions are made at build time from the command
# line's own --help (cmake/cli_docs.py reads `bakthat --help` and each
# command's --help; help2man formats the page), so they list exactly the
# commands and options the binary has.
include(GNUInstallDirs)
find_program(BAKTHAT_HELP2MAN help2man)
find_program(BAKTHAT_DOCS_PYTHON python3 HINTS /usr/bin)
set(BAKTHAT_ZSH_COMPLETION_DIR ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions CACHE PATH
    "Where the zsh completion _bakthat is installed (relative: to the prefix)")
if(BAKTHAT_HELP2MAN AND BAKTHAT_DOCS_PYTHON)
  set(_docs ${PROJECT_BINARY_DIR}/docs)
  add_custom_command(
      OUTPUT ${_docs}/bakthat.1.gz ${_docs}/bakthat.bash ${_docs}/_bakthat
      COMMAND ${BAKTHAT_DOCS_PYTHON} ${PROJECT_SOURCE_DIR}/cmake/cli_docs.py $<TARGET_FILE:bakthat_cli> ${_docs}
      # By name from PATH, so that the page's usage lines say "bakthat".
      COMMAND ${CMAKE_COMMAND} -E env PATH=$<TARGET_FILE_DIR:bakthat_cli>:/usr/bin:/bin
              ${BAKTHAT_HELP2MAN} --no-info --section 1 --include ${_docs}/bakthat.h2m
              --output ${_docs}/bakthat.1 bakthat
      COMMAND gzip -9nf ${_docs}/bakthat.1
      DEPENDS bakthat_cli ${PROJECT_SOURCE_DIR}/cmake/cli_docs.py
      COMMENT "Generating the man page and the shell completions from bakthat --help"
      VERBATIM)
  add_custom_target(bakthat_docs ALL DEPENDS ${_docs}/bakthat.1.gz ${_docs}/bakthat.bash ${_docs}/_bakthat)
  install(FILES ${_docs}/bakthat.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${_docs}/bakthat.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME bakthat)
  install(FILES ${_docs}/_bakthat DESTINATION ${BAKTHAT_ZSH_COMPLETION_DIR})
else()
  message(STATUS "bakthat: no man page and shell completions (they need help2man and python3: "
                 "scripts/install-deps.sh installs them)")
endif()

# The Debian package: `make package` (cmake --build build --target deb)
# writes build/bakthat_<version>_<arch>.deb with everything `cmake --install`
# installs, under /usr. Its version is project(VERSION).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bakthat)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "compressed, encrypted backups to local disk, S3, Glacier and Swift")
set(CPACK_PACKAGE_DESCRIPTION
    "bakthat backs up files, directories and streams as .tgz (or age-encrypted\n"
    "archives) with a SQLite catalog, to a local store, S3, Glacier or Swift.\n"
    "The package holds the command, its man page and bash and zsh completion,\n"
    "the C++ library (headers, CMake and pkg-config files) and the sync server.")
string(CONCAT CPACK_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_PACKAGE_CONTACT "bakthat maintainers" CACHE STRING "The .deb's Maintainer field")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Without the debug information of a RelWithDebInfo build (a tenth of the size).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
# The libraries the binaries link, found by dpkg-shlibdeps; python3 runs
# bakthat-syncserver (and loads the Python package when it is built).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS python3)
# fusermount3, which `bakthat mount` mounts and unmounts through.
if(BAKTHAT_FUSE)
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS fuse3)
endif()
# What a program linking the installed static library needs
# (cmake/bakthat.pc.in's Requires).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "libarchive-dev, libdeflate-dev, libzstd-dev, libsqlite3-dev, libyaml-cpp-dev, zlib1g-dev, libssl-dev, "
    "libcurl4-openssl-dev, libpugixml-dev, nlohmann-json3-dev, libisal-dev")
string(CONCAT CPACK_DEBIAN_PACKAGE_SUGGESTS ${CPACK_DEBIAN_PACKAGE_SUGGESTS})
# cpack installs through the preinstall target, which builds `all` (tests
# included) unless this is set; the deb target below builds what it packs.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)

# Builds only what the package holds (the package target CPack adds builds
# `all`, tests included), then packs it.
if(TARGET bakthat_docs)
  add_custom_target(deb
      COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake
      WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
      COMMENT "Packing build/bakthat_${PROJECT_VERSION}_*.deb"
      VERBATIM)
  add_dependencies(deb bakthat bakthat_cli bakthat_docs)
else()
  add_custom_target(deb
      COMMAND ${CMAKE_COMMAND} -E echo "bakthat: the package needs the man page: install help2man, then reconfigure"
      COMMAND false)
endif()
# The Python package (target bakthat_python), when this build makes it.
if(TARGET bakthat_python)
  add_dependencies(deb bakthat_python)
endif()
