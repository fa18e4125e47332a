/* hearken-ring.c — lock-free SPSC ring buffer (C11 atomics). */
#include "hearken-ring.h"

#include <stdatomic.h>
#include <string.h>

struct _HearkenRing
{
  gint16                *samples;   /* (capacity) */
  gsize                  capacity;  /* a power of two */
  /* Free-running counts of samples written and read; their difference is
   * the fill.  Each is stored by one side only: the producer publishes
   * written with release order after copying, the consumer reads it with
   * acquire order before copying (and the other way round for read). */
  _Atomic gsize          written;
  _Atomic gsize          read;
  _Atomic guint64        dropped;
};

HearkenRing *
hearken_ring_new (gsize min_capacity)
{
  HearkenRing *ring = g_new0 (HearkenRing, 1);
  gsize capacity = 1;

  while (capacity < min_capacity)
    capacity <<= 1;
  ring->capacity = capacity;
  ring->samples = g_new0 (gint16, capacity);
  atomic_init (&ring->written, 0);
  atomic_init (&ring->read, 0);
  atomic_init (&ring->dropped, 0);
  return ring;
}

void
hearken_ring_free (HearkenRing *ring)
{
  if (!ring)
    return;
  g_free (ring->samples);
  g_free (ring);
}

gsize
hearken_ring_capacity (const HearkenRing *ring)
{
  return ring->capacity;
}

/* Copies n samples between the ring at position pos (wrapping) and flat. */
static void
copy_in (HearkenRing  *ring,
         gsize         pos,
         const gint16 *flat,
         gsize         n)
{
  gsize start = pos & (ring->capacity - 1);
  gsize first = MIN (n, ring->capacity - start);

  memcpy (ring->samples + start, flat, first * sizeof *flat);
  memcpy (ring->samples, flat + first, (n - first) * sizeof *flat);
}

static void
copy_out (const HearkenRing *ring,
          gsize              pos,
          gint16            *flat,
          gsize              n)
{
  gsize start = pos & (ring->capacity - 1);
  gsize first = MIN (n, ring->capacity - start);

  memcpy (flat, ring->samples + start, first * sizeof *flat);
  memcpy (flat + first, ring->samples, (n - first) * sizeof *flat);
}

gsize
hearken_ring_write (HearkenRing  *ring,
                    const gint16 *samples,
                    gsize         n)
{
  gsize written = atomic_load_explicit (&ring->written, memory_order_relaxed);
  gsize read = atomic_load_explicit (&ring->read, memory_order_acquire);
  gsize room = ring->capacity - (written - read);
  gsize count = MIN (n, room);

  copy_in (ring, written, samples, count);
  atomic_store_explicit (&ring->written, written + count, memory_order_release);
  if (count < n)
    atomic_fetch_add_explicit (&ring->dropped, n - count, memory_order_relaxed);
  return count;
}

gsize
hearken_ring_read (HearkenRing *ring,
                   gint16      *samples,
                   gsize        n)
{
  gsize read = atomic_load_explicit (&ring->read, memory_order_relaxed);
  gsize written = atomic_load_explicit (&ring->written, memory_order_acquire);
  gsize count = MIN (n, written - read);

  copy_out (ring, read, samples, count);
  atomic_store_explicit (&ring->read, read + count, memory_order_release);
  return count;
}

gsize
hearken_ring_available (HearkenRing *ring)
{
  gsize written = atomic_load_explicit (&ring->written, memory_order_acquire);
  gsize read = atomic_load_explicit (&ring->read, memory_order_acquire);

  return written - read;
}

guint64
hearken_ring_dropped (HearkenRing *ring)
{
  return atomic_load_explicit (&ring->dropped, memory_order_relaxed);
}
