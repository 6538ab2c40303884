# The web page in a real browser: headless Chromium (Debian's chromium) loads it from
# droverd --serve and the test asserts on the rendered DOM against droverctl and the
# published status; screenshots in build/page/. Skipped (77) without chromium.
add_test(NAME page_in_chromium
         COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/page/page_test.py ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE:droverd> $<TARGET_FILE:droverctl> ${PROJECT_BINARY_DIR})
set_tests_properties(page_in_chromium PROPERTIES LABELS "page" TIMEOUT 180 SKIP_RETURN_CODE 77)
