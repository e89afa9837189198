# One place for warnings and sanitizers; applied to every target of the tree.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wformat=2 -Wno-unused-parameter)
if(XGW_WERROR)
  add_compile_options(-Werror)
endif()
if(XGW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(XGW_FUZZ)
  # libFuzzer targets (tests/fuzz): the whole tree gets coverage
  # instrumentation (fuzzer-no-link) so the fuzzer sees inside libxgw and the
  # plugins; only the fuzz targets link the fuzzer's main (-fsanitize=fuzzer).
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "XGW_FUZZ=ON needs clang (configure with CC=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
