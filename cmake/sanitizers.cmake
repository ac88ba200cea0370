# CS_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer, abort on the first report.
if(CS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1)
  add_link_options(-fsanitize=address,undefined)
endif()
