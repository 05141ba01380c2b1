# Finds the stb single-file libraries as Debian / Ubuntu package them (libstb-dev): the
# headers in <include>/stb and libstb, which holds the compiled implementations (so that no
# translation unit has to define STB_IMAGE_WRITE_IMPLEMENTATION).
#
# Result: the imported target Stb::Stb and Stb_FOUND. Hints: Stb_INCLUDE_DIR (the directory
# holding stb_image_write.h) and Stb_LIBRARY.
find_path(Stb_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb)
find_library(Stb_LIBRARY stb)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Stb REQUIRED_VARS Stb_INCLUDE_DIR Stb_LIBRARY)
mark_as_advanced(Stb_INCLUDE_DIR Stb_LIBRARY)
if(Stb_FOUND AND NOT TARGET Stb::Stb)
  add_library(Stb::Stb UNKNOWN IMPORTED)
  set_target_properties(Stb::Stb PROPERTIES IMPORTED_LOCATION "${Stb_LIBRARY}"
                                            INTERFACE_INCLUDE_DIRECTORIES "${Stb_INCLUDE_DIR}")
endif()
