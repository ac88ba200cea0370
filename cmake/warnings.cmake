# Warning flags shared by every target in the tree.
add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                    -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wvla)
if(CS_WERROR)
  add_compile_options(-Werror)
endif()
