# packaging.cmake - what `cmake --install` lays out besides the programs (whose install()
# rules live beside them), and the Debian package (`cpack -G DEB` in the build directory).
#
#   <prefix>/bin/                                swarm-agent swarm-coordinator swarm-cli fake-csms
#   <prefix>/share/man/man1/*.1.gz               man pages from --help (help2man, when installed)
#   <prefix>/share/doc/chargeswarm/              README.md and docs/*.md
#   <prefix>/share/doc/chargeswarm/examples/scenarios/   the scenario files of examples/scenarios/
#   <prefix>/share/doc/chargeswarm/examples/     sample swarm-agent.conf, swarm-coordinator.conf,
#                                                swarm-cli.conf (every option, commented out),
#                                                messages.json (a catalog for swarm-cli catalog load)
#   <prefix>/lib/systemd/system/                 swarm-agent.service, swarm-coordinator.service
#   <prefix>/lib/sysusers.d/chargeswarm.conf     the services' system user
#
# The sample configs are deliberately not installed in /etc (no conffiles): the programs read
# /etc/chargeswarm/<program>.conf only when it exists and run on defaults otherwise, the file
# is host-specific (agent name, workers) and may hold the Redis password, and on load hosts it
# is written by configuration management (ansible/), which a dpkg conffile would fight on
# every upgrade that touches the sample. See packaging/README.md.

include(GNUInstallDirs)

set(CS_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the install prefix")
set(CS_SYSUSERSDIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d file goes, relative to the install prefix")
set(CS_DEB_MAINTAINER "chargeswarm maintainers <maintainers@users.noreply.r-seed-af7d5842.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(_cs_pkg ${PROJECT_SOURCE_DIR}/packaging)

# ---- sample configs and documentation --------------------------------------------------------
install(FILES ${_cs_pkg}/config/swarm-agent.conf ${_cs_pkg}/config/swarm-coordinator.conf
              ${_cs_pkg}/config/swarm-cli.conf ${PROJECT_SOURCE_DIR}/examples/messages.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
file(GLOB _cs_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_cs_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The scenario files of examples/scenarios/ (swarm-cli run FILE).
file(GLOB _cs_scenarios CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/scenarios/*.json)
install(FILES ${_cs_scenarios} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/scenarios)

# Debian wants a changelog and a copyright file in every package's doc directory.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CS_DEB_VERSION "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
string(TIMESTAMP CS_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)  # honours SOURCE_DATE_EPOCH
configure_file(${_cs_pkg}/debian/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog.Debian @ONLY)
find_program(GZIP gzip)
if(GZIP)
  add_custom_command(
    OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
    COMMAND ${GZIP} -9nc ${PROJECT_BINARY_DIR}/packaging/changelog.Debian
            > ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
    DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.Debian)
  add_custom_target(deb-changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
install(FILES ${_cs_pkg}/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- systemd units: ExecStart names the binaries where this install puts them -----------------
# Written at install time, so that `cmake --install --prefix P` and the package (prefix /usr)
# each get their own path.
install(CODE "
  set(CS_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(CS_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  foreach(unit swarm-agent swarm-coordinator)
    configure_file(${_cs_pkg}/systemd/\${unit}.service.in
                   ${PROJECT_BINARY_DIR}/packaging/\${unit}.service @ONLY)
  endforeach()
")
install(FILES ${PROJECT_BINARY_DIR}/packaging/swarm-agent.service
              ${PROJECT_BINARY_DIR}/packaging/swarm-coordinator.service
        DESTINATION ${CS_SYSTEMD_UNITDIR})
install(FILES ${_cs_pkg}/sysusers/chargeswarm.conf DESTINATION ${CS_SYSUSERSDIR})

# ---- man pages from --help (help2man); skipped with a notice when it is not installed ---------
find_program(HELP2MAN help2man)
if(HELP2MAN AND GZIP)
  set(_cs_man_names
      "swarm-agent=run virtual EV chargers on a load host"
      "swarm-coordinator=assign the fleet's chargers to the live agent workers"
      "swarm-cli=steer a running chargeswarm fleet through Redis"
      "fake-csms=a minimal charging platform that answers the chargers' OCPP CALLs")
  set(_cs_man_pages)
  foreach(entry ${_cs_man_names})
    string(REGEX REPLACE "=.*" "" prog "${entry}")
    string(REGEX REPLACE "^[^=]*=" "" what "${entry}")
    set(out ${PROJECT_BINARY_DIR}/man/${prog}.1)
    add_custom_command(
      OUTPUT ${out}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${HELP2MAN} --no-info --section=1 --name=${what}
              --include=${_cs_pkg}/man/${prog}.h2m --output=${out} $<TARGET_FILE:${prog}>
      COMMAND ${GZIP} -9nf ${out}
      DEPENDS ${prog} ${_cs_pkg}/man/${prog}.h2m
      COMMENT "help2man ${prog}"
      VERBATIM)
    list(APPEND _cs_man_pages ${out}.gz)
  endforeach()
  add_custom_target(man ALL DEPENDS ${_cs_man_pages})
  install(FILES ${_cs_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man pages (scripts/deps installs it)")
endif()

# ---- the Debian package: cpack -G DEB ----------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chargeswarm)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${CS_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "virtual EV chargers (OCPP 1.6 over MQTT) to load-test a charging platform")
set(CPACK_PACKAGE_DESCRIPTION
    "A fleet of virtual chargers, each a real MQTT client with an OCPP-1.6-style
model, steered live through Redis: swarm-agent runs the chargers of one load
host in worker processes, swarm-coordinator assigns the fleet to the live
workers, swarm-cli shows and steers the fleet. The services are installed but
neither enabled nor started.")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CS_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries come from dpkg-shlibdeps on the binaries; postinst creates the system
# user with adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server, redis-tools, mosquitto-clients")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_cs_pkg}/debian/postinst ${_cs_pkg}/debian/prerm ${_cs_pkg}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.run/")
include(CPack)
