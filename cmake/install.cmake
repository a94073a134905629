# What `cmake --install` puts where (GNU layout, so /usr/local by default and /usr in the .deb):
# the four programs, the codec and transport libraries with their public headers, the CMake
# package `tcpchat` (tcpchat::codec, tcpchat::transport), tcpchat-codec.pc, the conformance cases,
# the reports' JSON Schemas and the spec. Manual pages: man/CMakeLists.txt. The .deb: packaging/CMakeLists.txt.
include(CMakePackageConfigHelpers)

set(tcpchat_programs tcp-chat-server tcp-chat-client tcp-chat-conformance tcp-chat-load)
foreach(program ${tcpchat_programs})
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# Libraries and headers. transport/include and codec/include both hold tcpchat/*.hpp; private
# headers stay in src/.
install(TARGETS tcpchat_codec tcpchat_transport EXPORT tcpchatTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/codec/include/ ${PROJECT_SOURCE_DIR}/transport/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp"
        PATTERN "grammar.hpp" EXCLUDE) # tcpchat::grammar, the codec's private PEGTL rules
install(FILES ${PROJECT_BINARY_DIR}/codec/include/tcpchat/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tcpchat)

# find_package(tcpchat 1.0 CONFIG): the exported targets, their dependencies, the version.
set(tcpchat_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/tcpchat)
install(EXPORT tcpchatTargets NAMESPACE tcpchat:: DESTINATION ${tcpchat_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tcpchatConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tcpchatConfig.cmake
                              INSTALL_DESTINATION ${tcpchat_cmake_dir})
# 1.x releases keep the API; the libraries are built for one architecture.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tcpchatConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tcpchatConfig.cmake
              ${PROJECT_BINARY_DIR}/tcpchatConfigVersion.cmake
        DESTINATION ${tcpchat_cmake_dir})

# pkg-config for the codec alone (it needs nothing else: PEGTL is header-only and private).
file(RELATIVE_PATH tcpchat_pc_to_prefix "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" tcpchat_pc_to_prefix "${tcpchat_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/tcpchat-codec.pc.in
               ${PROJECT_BINARY_DIR}/tcpchat-codec.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tcpchat-codec.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The suite the installed tcp-chat-conformance finds beside itself (bin/../share/...).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/conformance/cases/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpchat/conformance/cases FILES_MATCHING PATTERN "*.md")
# The JSON Schemas of the reports, each under the folder its $id names, so that a grader validates
# a report against the schema of the installed version: share/tcpchat/schema/tcp-chat-conformance/
# {report,grade}.json (tcp-chat-conformance --json, grade's matrix.json) and
# share/tcpchat/schema/tcp-chat-load/results.json (tcp-chat-load --json).
install(FILES ${PROJECT_SOURCE_DIR}/conformance/schema/report.json
              ${PROJECT_SOURCE_DIR}/conformance/schema/grade.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpchat/schema/tcp-chat-conformance)
install(FILES ${PROJECT_SOURCE_DIR}/bench/load/schema/results.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpchat/schema/tcp-chat-load)
# The spec.
install(FILES ${PROJECT_SOURCE_DIR}/spec/tcp-chat.md ${PROJECT_SOURCE_DIR}/spec/transcript-format.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
