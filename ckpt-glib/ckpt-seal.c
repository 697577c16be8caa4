/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sealing (ckpt-seal-private.h): the checksum of a checkpoint file computed
 * before its write, on a second thread during it, or chunk by chunk while
 * the disk writes it back. Touches no file: the caller writes, and stores
 * the checksum; ckpt-format.c defines what the checksum is.
 *
 * Why a large payload is not simply hashed before the write: the hash
 * would then add its whole time to the save. During a durable save the
 * disk is busy after the write anyway, so hashing while it writes back
 * costs little time of its own (on a disk faster than the hash, the two
 * simply run one after the other). A save that is not durable has no such
 * wait: a second thread hashes while the caller writes. A thread hashing
 * during the write of a durable save competes with it for memory bandwidth
 * or a core, which is why durable saves hash afterwards instead
 * (docs/performance.md, "Why the code is as it is").
 */
#include "config.h"

#include <string.h>

#include "ckpt-format-private.h"
#include "ckpt-payload-private.h"
#include "ckpt-seal-private.h"

/* The hash thread checks for an abort between pieces of this size. */
#define HASH_CHUNK (4 * 1024 * 1024)
/* Hashing during the writeback goes chunk by chunk, so that the hash always
 * has queued I/O to hide behind: writeback started for the whole file at
 * once returns only when the last request is queued, and the hash of a
 * file of gigabytes would then run mostly after the disk is done. */
#define WRITEBACK_CHUNK (8 * 1024 * 1024)

#ifdef CKPT_ENABLE_TEST_HOOKS
static gsize parallel_min = 0;   /* 0: the default */

void
ckpt_seal_set_parallel_min (gsize min_bytes)
{
  g_atomic_pointer_set (&parallel_min, min_bytes);
}

static gsize
get_parallel_min (void)
{
  gsize min_bytes = (gsize) g_atomic_pointer_get (&parallel_min);

  return min_bytes != 0 ? min_bytes : CKPT_SEAL_DEFAULT_PARALLEL_MIN;
}
#else
#define get_parallel_min() ((gsize) CKPT_SEAL_DEFAULT_PARALLEL_MIN)
#endif

CkptSealStrategy
ckpt_seal_choose (gsize    payload_size,
                  gboolean can_hash_during_writeback)
{
  if (payload_size < get_parallel_min ())
    return CKPT_SEAL_BEFORE_WRITE;
  return can_hash_during_writeback ? CKPT_SEAL_DURING_WRITEBACK : CKPT_SEAL_IN_THREAD;
}

static void
hash_range (const guint8 *data,
            gsize         size,
            gpointer      user_data)
{
  ckpt_format_checksum_update (user_data, data, size);
}

GBytes *
ckpt_seal_header (GBytes      *header,
                  CkptPayload *payload)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (header, &size);
  CkptFormatChecksum *checksum;
  guint64 le;
  guint8 *copy;

  g_return_val_if_fail (size >= CKPT_FORMAT_FIXED_HEADER_SIZE, NULL);

  checksum = ckpt_format_checksum_begin (data, size);
  ckpt_payload_foreach_range (payload, 0, ckpt_payload_get_size (payload), hash_range, checksum);
  le = GUINT64_TO_LE (ckpt_format_checksum_finish (checksum));
  copy = g_memdup2 (data, size);
  memcpy (copy + CKPT_FORMAT_OFFSET_CHECKSUM, &le, sizeof le);
  return g_bytes_new_take (copy, size);
}

struct _CkptSeal
{
  CkptSealStrategy strategy;
  GBytes          *header;    /* what to write */
  CkptPayload     *payload;
  gboolean         pending;   /* the checksum is still to be computed */
  GThread         *thread;    /* CKPT_SEAL_IN_THREAD */
  int              abort;     /* atomic: the write failed, stop hashing */
  gboolean         done;      /* the thread finished: digest is set */
  guint64          digest;
};

static gpointer
hash_thread (gpointer data)
{
  CkptSeal *seal = data;
  gsize header_size, payload_size = ckpt_payload_get_size (seal->payload), offset;
  const guint8 *header = g_bytes_get_data (seal->header, &header_size);
  CkptFormatChecksum *checksum = ckpt_format_checksum_begin (header, header_size);

  for (offset = 0; offset < payload_size; offset += HASH_CHUNK)
    {
      if (g_atomic_int_get (&seal->abort))
        {
          ckpt_format_checksum_free (checksum);
          return NULL;
        }
      ckpt_payload_foreach_range (seal->payload, offset, MIN ((gsize) HASH_CHUNK, payload_size - offset),
                                  hash_range, checksum);
    }
  seal->digest = ckpt_format_checksum_finish (checksum);
  seal->done = TRUE;
  return NULL;
}

CkptSeal *
ckpt_seal_start (GBytes           *header,
                 CkptPayload      *payload,
                 CkptSealStrategy  strategy)
{
  CkptSeal *seal;

  g_return_val_if_fail (header != NULL && payload != NULL, NULL);
  g_return_val_if_fail (g_bytes_get_size (header) >= CKPT_FORMAT_FIXED_HEADER_SIZE, NULL);

  seal = g_new0 (CkptSeal, 1);
  seal->strategy = strategy;
  seal->header = g_bytes_ref (header);
  seal->payload = ckpt_payload_ref (payload);
  seal->pending = strategy != CKPT_SEAL_BEFORE_WRITE;

  if (strategy == CKPT_SEAL_IN_THREAD)
    {
      seal->thread = g_thread_try_new ("ckpt-checksum", hash_thread, seal, NULL);
      seal->pending = seal->thread != NULL;
    }
  if (!seal->pending)
    {
      GBytes *sealed = ckpt_seal_header (header, payload);

      g_bytes_unref (seal->header);
      seal->header = sealed;
    }
  return seal;
}

GBytes *
ckpt_seal_get_header (CkptSeal *seal)
{
  return seal->header;
}

gboolean
ckpt_seal_pending (CkptSeal *seal)
{
  return seal->pending;
}

typedef struct
{
  const guint8 *file;      /* the chunk as read back from the file */
  gboolean      same;
} Compare;

static void
compare_range (const guint8 *data,
               gsize         size,
               gpointer      user_data)
{
  Compare *compare = user_data;

  if (compare->same && memcmp (compare->file, data, size) != 0)
    compare->same = FALSE;
  compare->file += size;
}

/* The checksum of the file's bytes as read back, chunk by chunk while the
 * disk writes them: so it is the checksum of what is in the file, whatever
 * the payload's owner does to its memory meanwhile (a tensor over a numpy
 * buffer that a training loop keeps updating during an async save); and
 * the file must hold what the payload holds, else the save fails
 * (CKPT_SEAL_CHANGED) rather than store something the caller never had. */
static int
hash_during_writeback (CkptSeal              *seal,
                       CkptSealWritebackFunc  writeback,
                       gpointer               user_data,
                       GCancellable          *cancellable,
                       guint64               *out_digest)
{
  gsize header_size, payload_size = ckpt_payload_get_size (seal->payload), offset;
  const guint8 *head = g_bytes_get_data (seal->header, &header_size);
  CkptFormatChecksum *checksum = ckpt_format_checksum_begin (head, header_size);
  g_autofree guint8 *buffer = g_malloc (MIN ((gsize) WRITEBACK_CHUNK, MAX (payload_size, 1)));

  for (offset = 0; offset < payload_size; offset += WRITEBACK_CHUNK)
    {
      gsize length = MIN ((gsize) WRITEBACK_CHUNK, payload_size - offset);
      Compare compare = { buffer, TRUE };
      int err;

      if (g_cancellable_is_cancelled (cancellable))
        {
          ckpt_format_checksum_free (checksum);
          return ECANCELED;
        }
      /* Queue this chunk's writeback and read it back, then hash it while
       * the disk writes. */
      err = writeback ((goffset) (header_size + offset), length, buffer, user_data);
      if (err == 0)
        {
          ckpt_payload_foreach_range (seal->payload, offset, length, compare_range, &compare);
          if (!compare.same)
            err = CKPT_SEAL_CHANGED;
        }
      if (err != 0)
        {
          ckpt_format_checksum_free (checksum);
          return err;
        }
      ckpt_format_checksum_update (checksum, buffer, length);
    }
  *out_digest = ckpt_format_checksum_finish (checksum);
  return 0;
}

int
ckpt_seal_finish (CkptSeal              *seal,
                  CkptSealWritebackFunc  writeback,
                  gpointer               user_data,
                  GCancellable          *cancellable,
                  guint64               *out_digest)
{
  g_return_val_if_fail (seal->pending, EINVAL);

  seal->pending = FALSE;
  if (seal->thread != NULL)
    {
      g_thread_join (g_steal_pointer (&seal->thread));
      /* The thread only stops early when aborted, before this. */
      g_assert (seal->done);
      *out_digest = seal->digest;
      return 0;
    }
  g_return_val_if_fail (writeback != NULL, EINVAL);
  return hash_during_writeback (seal, writeback, user_data, cancellable, out_digest);
}

void
ckpt_seal_free (CkptSeal *seal)
{
  if (seal == NULL)
    return;
  if (seal->thread != NULL)
    {
      g_atomic_int_set (&seal->abort, TRUE);
      g_thread_join (seal->thread);
    }
  g_bytes_unref (seal->header);
  ckpt_payload_unref (seal->payload);
  g_free (seal);
}
