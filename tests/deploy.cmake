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
# A real Prometheus (Debian's prometheus) scrapes droverd running against the test API server;
# every dashboard query and alert expression is evaluated through its HTTP API. Skipped (77) without it.
add_test(NAME monitoring_prometheus_scrape
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/monitoring/prometheus_scrape_test.py ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE:droverd>)
set_tests_properties(monitoring_prometheus_scrape PROPERTIES LABELS "monitoring" TIMEOUT 300 SKIP_RETURN_CODE 77)
