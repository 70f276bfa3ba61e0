/* SPDX-License-Identifier: MIT */
/*
 * amxrt.h - the public interface of libamxrt.
 *
 * This is the only header an embedding program includes. It pulls in the
 * pieces below, each of which owns one part of the API:
 *
 *   amxrt/cpu.h     CPU features, AMX tile permission, instruction-set choice
 *   amxrt/quant.h   ggml-compatible weight types, quantize and dequantize
 *   amxrt/matmul.h  packed weights, matrix multiplication, threads
 *   amxrt/bench.h   the machine's int8 peak and read bandwidth
 *   amxrt/gguf.h    reading and writing GGUF files
 *   amxrt/tokenizer.h  text to tokens and back
 *   amxrt/model.h   loading a model, contexts, the forward pass
 *   amxrt/sample.h  sampling and chat templates
 *   amxrt/arena.h   named hugepage weight arenas, the amxrt.ko module
 *   amxrt/numa.h    NUMA nodes, thread pinning, weight placement
 *
 * Conventions: every call that can fail returns 0 (or a count) on success
 * and a negative errno value on failure; amxrt_errmsg() then holds one line
 * that names the problem. The library never exits or aborts the process.
 */
#ifndef AMXRT_AMXRT_H
#define AMXRT_AMXRT_H

#define AMXRT_VERSION_MAJOR 0
#define AMXRT_VERSION_MINOR 1
#define AMXRT_VERSION_PATCH 0
#define AMXRT_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* The library's version string, e.g. "0.1.0". */
const char *amxrt_version(void);

/*
 * The message of the last failed call made by this thread, or "" if none.
 * The string is owned by the library and stays valid until this thread's
 * next failing call.
 */
const char *amxrt_errmsg(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#include <amxrt/cpu.h>
#include <amxrt/quant.h>
#include <amxrt/matmul.h>
#include <amxrt/bench.h>
#include <amxrt/gguf.h>
#include <amxrt/tokenizer.h>
#include <amxrt/model.h>
#include <amxrt/sample.h>
#include <amxrt/arena.h>
#include <amxrt/numa.h>

#endif /* AMXRT_AMXRT_H */
