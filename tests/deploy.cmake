# deploy/ manifests: python3 structure and least-privilege checks always; kubectl apply --dry-run=client when
# kubectl is installed (skipped with a line saying so otherwise). See tests/deploy/check_manifests.sh.
add_test(NAME deploy_manifests
         COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/deploy/check_manifests.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(deploy_manifests PROPERTIES LABELS "deploy" TIMEOUT 120)
# The container image (deploy/Dockerfile) builds and runs `droverd --version`;
# skipped (exit 77) where no container daemon runs.
add_test(NAME deploy_image_builds COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/deploy/image_build.sh)
set_tests_properties(deploy_image_builds PROPERTIES LABELS "deploy" TIMEOUT 1800 SKIP_RETURN_CODE 77)
# deploy/monitoring: alert rules (promtool check + unit tests), the dashboard's ConfigMap, and
# that every series they read is exported. Skipped (77) without promtool.
add_test(NAME monitoring_alert_rules
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/deploy/check_monitoring.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(monitoring_alert_rules PROPERTIES LABELS "deploy" TIMEOUT 120 SKIP_RETURN_CODE 77)
