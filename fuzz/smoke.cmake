# The libFuzzer smoke test of one target (ctest fuzz_smoke_<t>, fuzz/CMakeLists.txt):
#   cmake -DFUZZER=... -DREPLAY=... -DDICT=... -DWORK=... -DINPUTS="dir|dir" -DRUNS=N -P smoke.cmake
# writes the seed corpus with the replay binary, then runs the libFuzzer binary on it
# (and on fuzz/corpus/<t>, fuzz/regress/<t>) for RUNS more inputs with -seed=1: the same
# inputs every time.  New corpus entries go to WORK/new, never into the source tree.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/new ${WORK}/findings)
execute_process(COMMAND ${REPLAY} --make-corpus ${WORK}/seeds RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${REPLAY} --make-corpus failed (${rc})")
endif()
string(REPLACE "|" ";" inputs "${INPUTS}")
set(ENV{UG_FUZZ_OUT} ${WORK}/findings)
execute_process(COMMAND ${FUZZER} -runs=${RUNS} -seed=1 -max_len=600 -dict=${DICT} -print_final_stats=1
                        -artifact_prefix=${WORK}/ ${WORK}/new ${WORK}/seeds ${inputs}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" units "${err}")
string(REGEX MATCH "stat::average_exec_per_sec: *[0-9]+" speed "${err}")
string(REGEX MATCH "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+" cov "${err}")
if(NOT rc EQUAL 0)
  message("${err}")
  message(FATAL_ERROR "libFuzzer smoke run failed (exit ${rc}); the finding is in ${WORK}/findings")
endif()
message("smoke ${FUZZER}: ${units}, ${speed}, last ${cov}")
