# CS_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer, abort on the first report.
if(CS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
endif()

# CS_TSAN=ON: ThreadSanitizer, for the hand-off between paho's threads and the event loop.
if(CS_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=thread)
endif()

# CS_FUZZ=ON: coverage instrumentation for libFuzzer in everything the targets link.
if(CS_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
