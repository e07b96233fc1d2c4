# Threads and shards give the same bytes (issue 9): props/par_identity.sh.  The quick
# tests run one kernel (xent.fused.f32: every family, reduction, boundary axis and sweep of
# it, split over threads and shards); the slow ones every kernel (several minutes each).
foreach(what check report gate)
  add_test(NAME par_${what}_identity
           COMMAND sh ${PROJECT_SOURCE_DIR}/props/par_identity.sh $<TARGET_FILE:ulpgate>
                   ${PROJECT_SOURCE_DIR}/reports/baseline.txt ${what} xent.fused.f32)
  set_tests_properties(par_${what}_identity PROPERTIES LABELS quick TIMEOUT 900)
  add_test(NAME par_${what}_identity_all
           COMMAND sh ${PROJECT_SOURCE_DIR}/props/par_identity.sh $<TARGET_FILE:ulpgate>
                   ${PROJECT_SOURCE_DIR}/reports/baseline.txt ${what} all)
  set_tests_properties(par_${what}_identity_all PROPERTIES LABELS slow TIMEOUT 1800)
endforeach()

# .clusterfuzzlite/build.sh in a clean environment with clang-14 (scripts/cflite-check):
# a few minutes, mostly the sanitized build, hence `slow`.
find_program(UG_CFLITE_CLANG clang-14)
find_program(UG_CFLITE_ZIP zip)
if(UG_CFLITE_CLANG AND UG_CFLITE_ZIP)
  add_test(NAME cflite_build COMMAND ${PROJECT_SOURCE_DIR}/scripts/cflite-check)
  set_tests_properties(cflite_build PROPERTIES LABELS slow TIMEOUT 1800)
endif()
