// GNUstep's Foundation includes <objc/blocks_runtime.h> when blocks are on; Debian's
// GCC Objective-C runtime does not ship it. The two functions it declares, written
// from the Blocks ABI, are all Foundation needs for a type-check.
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
void *_Block_copy(const void *block);
void _Block_release(const void *block);
#ifdef __cplusplus
}
#endif
