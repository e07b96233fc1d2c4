# One command, its exit status and its messages: cmake -P run_case.cmake with
#   CMD     the command and its arguments, separated by '|'
#   RC      the exit status it must return (a regular expression: "Child aborted" and
#           "Subprocess aborted" are what CMake versions say of an abort)
#   ERR     (optional) a regular expression stderr must match
#   OUT     (optional) a regular expression stdout must match
#   NOT_ERR (optional) a regular expression stderr must not match (a crash report)
# ctest runs one per case (props/plugin/CMakeLists.txt); failing prints everything.
string(REPLACE "|" ";" cmd "${CMD}")
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(problems "")
if(NOT "${rc}" MATCHES "^(${RC})$")
  string(APPEND problems "exit status ${rc}, expected ${RC}\n")
endif()
if(DEFINED ERR AND NOT err MATCHES "${ERR}")
  string(APPEND problems "stderr does not match: ${ERR}\n")
endif()
if(DEFINED OUT AND NOT out MATCHES "${OUT}")
  string(APPEND problems "stdout does not match: ${OUT}\n")
endif()
if(DEFINED NOT_ERR AND err MATCHES "${NOT_ERR}")
  string(APPEND problems "stderr matches what it must not: ${NOT_ERR}\n")
endif()
string(LENGTH "${out}" out_len)
if(out_len GREATER 4000)
  string(SUBSTRING "${out}" 0 4000 out)
  string(APPEND out "\n[... ${out_len} bytes in all]")
endif()
if(problems)
  message(FATAL_ERROR "${problems}command: ${cmd}\n--- stdout\n${out}\n--- stderr\n${err}")
endif()
message(STATUS "ok (exit ${rc}): ${cmd}\n--- stderr\n${err}")
