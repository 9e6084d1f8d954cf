#!/bin/sh
# As a GitHub Action (no arguments): run the action, configured by the
# environment action.yml sets. With arguments: the plain CLI, e.g.
# `publish --bucket ...`, for other CI systems.
set -e
if [ "$#" -eq 0 ]; then
  exec /usr/local/bin/allure-host action
fi
exec /usr/local/bin/allure-host "$@"
