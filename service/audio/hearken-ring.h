/* hearken-ring.h — a lock-free single-producer, single-consumer ring of
 * 16-bit samples.
 *
 * The PortAudio callback (the producer) must never wait on a lock, so the
 * two sides share only two atomic counters.  One thread writes, one other
 * thread reads; a full ring drops what does not fit and counts it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HearkenRing HearkenRing;

/* Room for at least min_capacity samples (rounded up to a power of two). */
HearkenRing *hearken_ring_new       (gsize          min_capacity);
void         hearken_ring_free      (HearkenRing   *ring);

gsize        hearken_ring_capacity  (const HearkenRing *ring);

/* Producer side: copies what fits of samples[0..n); returns how many. */
gsize        hearken_ring_write     (HearkenRing   *ring,
                                     const gint16  *samples,
                                     gsize          n);
/* Consumer side: moves up to n samples out; returns how many. */
gsize        hearken_ring_read      (HearkenRing   *ring,
                                     gint16        *samples,
                                     gsize          n);
/* Samples waiting (exact for the consumer, a lower bound elsewhere). */
gsize        hearken_ring_available (HearkenRing   *ring);
/* Samples the producer could not write because the ring was full. */
guint64      hearken_ring_dropped   (HearkenRing   *ring);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearkenRing, hearken_ring_free)

G_END_DECLS
