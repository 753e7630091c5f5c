// Note [libstdc++ symbol pins]
// Force-included into every translation unit of a Linux GCC build (see the end of CMakeLists.txt),
// so that a wheel built with a new libstdc++ loads on systems with an older one. GCC 12's
// libstdc++ gives std::condition_variable::wait(unique_lock&) a second version, GLIBCXX_3.4.30,
// and makes it the default; the same function is still exported under GLIBCXX_3.4.11. Without
// this pin the module's only GLIBCXX_3.4.30 reference was that one symbol, which alone raised
// `auditwheel show` from manylinux_2_34 (RHEL 9 and its rebuilds) to manylinux_2_35. A
// translation unit that never calls the function emits nothing for the directive.
#pragma once

#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
__asm__(
    ".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
    "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif
