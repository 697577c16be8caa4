/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sealing: computing the checksum of a checkpoint file whose header was
 * encoded with CKPT_FORMAT_ENCODE_UNSEALED, for the storage back ends.
 * Pure computation and threading, next to the format code: no I/O. The one
 * piece of I/O a strategy needs (starting the writeback of what it is about
 * to hash) is the caller's, given as a callback.
 *
 * Runs on the thread of the storage call that seals (the caller's, or the
 * manager's worker for async calls), plus, for CKPT_SEAL_IN_THREAD, one
 * thread of its own for the duration of the write.
 */
#pragma once

#include <errno.h>

#include <gio/gio.h>

#include "ckpt-payload-private.h"

G_BEGIN_DECLS

/* How the checksum of a payload is computed. */
typedef enum
{
  /* Before the write: the header goes out complete. Costs less than a
   * thread or a second write of the first page, for small payloads. */
  CKPT_SEAL_BEFORE_WRITE,
  /* On a second thread while the caller writes (both only read the
   * payload); the caller stores the checksum after the write. */
  CKPT_SEAL_IN_THREAD,
  /* After the write, chunk by chunk while the disk writes the chunks back
   * (a durable save waits for the disk anyway); the caller stores the
   * checksum before it flushes the file. */
  CKPT_SEAL_DURING_WRITEBACK,
} CkptSealStrategy;

/* Payloads of at least this many bytes are checksummed after the write
 * began (in a thread, or during the writeback); smaller ones before. */
#define CKPT_SEAL_DEFAULT_PARALLEL_MIN (8 * 1024 * 1024)

#ifdef CKPT_ENABLE_TEST_HOOKS
/* Tests: lower the threshold to exercise every strategy; 0 restores the
 * default. Not in the shipped library. */
void             ckpt_seal_set_parallel_min (gsize min_bytes);
#endif

/* The strategy for a payload of @payload_size bytes, @can_hash_during_writeback
 * when the caller can start the writeback of a range and will wait for the
 * disk afterwards (a durable local save). */
CkptSealStrategy ckpt_seal_choose           (gsize          payload_size,
                                             gboolean       can_hash_during_writeback);

/* A copy of @header (encoded with CKPT_FORMAT_ENCODE_UNSEALED) with the
 * checksum of @header and @payload stored in its checksum field. */
GBytes          *ckpt_seal_header           (GBytes        *header,
                                             CkptPayload   *payload);

/* One sealing in progress, for the strategies that hash during or after
 * the write. */
typedef struct _CkptSeal CkptSeal;

/* Starts sealing @header and @payload (both referenced until
 * ckpt_seal_free()) with @strategy. For CKPT_SEAL_IN_THREAD the hash
 * thread starts now; where no thread can be had, or for
 * CKPT_SEAL_BEFORE_WRITE, the header is sealed now instead.
 * ckpt_seal_get_header() gives the header to write. */
CkptSeal        *ckpt_seal_start            (GBytes        *header,
                                             CkptPayload   *payload,
                                             CkptSealStrategy strategy);
/* The header to write (sealed, or with its checksum left zero when
 * ckpt_seal_pending()); owned by @seal. */
GBytes          *ckpt_seal_get_header       (CkptSeal      *seal);
/* Whether the checksum is still to be computed with ckpt_seal_finish()
 * and stored at CKPT_FORMAT_OFFSET_CHECKSUM by the caller. */
gboolean         ckpt_seal_pending          (CkptSeal      *seal);

/* Called before each chunk of a CKPT_SEAL_DURING_WRITEBACK hash with the
 * chunk's range in the file: start writing it back (a hint: the caller's
 * flush afterwards is what makes the file durable), and read the chunk as
 * it is in the file into @buffer (@length bytes). Returns 0 or an errno
 * value. */
typedef int    (*CkptSealWritebackFunc)     (goffset        offset,
                                             gsize          length,
                                             guint8        *buffer,
                                             gpointer       user_data);

/* What ckpt_seal_finish() returns besides 0 and an errno value of
 * @writeback: the payload's memory no longer holds what was written (its
 * owner changed it during the save), so the file is not what the caller
 * meant to save. */
#define CKPT_SEAL_CHANGED ESTALE

/* After the whole file was written: the checksum (waits for the hash
 * thread, or hashes calling @writeback chunk by chunk: then the checksum
 * is of the bytes in the file, compared with the payload's memory on the
 * way). Returns 0, ECANCELED if @cancellable was cancelled on the way,
 * CKPT_SEAL_CHANGED, or an errno value of @writeback (no checksum but
 * with 0). Only when ckpt_seal_pending(). */
int              ckpt_seal_finish           (CkptSeal      *seal,
                                             CkptSealWritebackFunc writeback,
                                             gpointer       user_data,
                                             GCancellable  *cancellable,
                                             guint64       *out_digest);
/* Stops a hash thread still running (the write failed) and frees @seal. */
void             ckpt_seal_free             (CkptSeal      *seal);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptSeal, ckpt_seal_free)

G_END_DECLS
