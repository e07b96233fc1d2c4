# ctest oracle_fast_gate_identity (oracle/CMakeLists.txt): the gate's baseline file is
# byte-identical with the oracle's fast path (default) and with the MPFR-only path
# (UG_ORACLE=mpfr).
#   cmake -DCLI=<ulpgate> -DWORK=<dir> [-DKERNELS=a;b;...] -P gate_identity.cmake
# KERNELS: the kernels to gate, one run each (default: all, the whole gate).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
if(NOT KERNELS)
  set(KERNELS all)
endif()
foreach(k IN LISTS KERNELS)
  foreach(path fast mpfr)
    if(path STREQUAL "mpfr")
      set(ENV{UG_ORACLE} mpfr)
    else()
      unset(ENV{UG_ORACLE})
    endif()
    execute_process(COMMAND ${CLI} gate --kernel ${k} --baseline ${WORK}/${k}-${path}.txt --update
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "ulpgate gate --kernel ${k} --update (${path} path) failed (${rc}): ${err}")
    endif()
    file(SHA256 ${WORK}/${k}-${path}.txt sum_${path})
  endforeach()
  if(NOT sum_fast STREQUAL sum_mpfr)
    execute_process(COMMAND diff ${WORK}/${k}-mpfr.txt ${WORK}/${k}-fast.txt OUTPUT_VARIABLE d)
    message(FATAL_ERROR "${k}: the baselines differ (< MPFR-only, > fast path):\n${d}")
  endif()
  file(STRINGS ${WORK}/${k}-fast.txt lines)
  list(LENGTH lines count)
  message("${k}: gate baseline identical with and without the fast path: ${count} lines, sha256 ${sum_fast}")
endforeach()
