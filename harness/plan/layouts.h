/* Head layouts: how one layer's heads are executed (docs/DESIGN.md, "Layout"), one table.
 *
 * Everything that differs between layouts is a field of its entry: the
 * labels it runs on, whether its mixed layers are reordered at load, the
 * copies a mixed layer adds around its two attention launches, the buffers
 * those need, and how Nsight and the plots draw it. The plan, the executor,
 * the memory estimate and the report read the table; adding a layout is one
 * entry here plus the executor step of any new op it needs.
 *
 * Mixed layouts are those on DuoAttention's per-head labels, where a layer
 * may hold retrieval and streaming heads: each is compared with zigzag.
 */
#ifndef ZZ_LAYOUTS_H
#define ZZ_LAYOUTS_H

#include <stdint.h>

typedef enum {
    ZZ_LAYOUT_FULL,
    ZZ_LAYOUT_STREAMING,
    ZZ_LAYOUT_DUO_CAT,
    ZZ_LAYOUT_DUO_GATHER,
    ZZ_LAYOUT_DUO_SLICES,
    ZZ_LAYOUT_DUO_FUSED,
    ZZ_LAYOUT_ZIGZAG,
} zz_layout;
#define ZZ_LAYOUTS (ZZ_LAYOUT_ZIGZAG + 1)

/* Which head labels a layout runs on. */
typedef enum {
    ZZ_LABELS_NONE_RETRIEVAL, /* none needed: every head full attention */
    ZZ_LABELS_NONE_STREAMING, /* none needed: every head streaming */
    ZZ_LABELS_PER_HEAD,       /* DuoAttention's: layers may be mixed */
    ZZ_LABELS_PER_LAYER,      /* zigzag's: each layer all retrieval or all streaming (checked) */
} zz_layout_labels;

/* Copies a mixed layer runs (bits of zz_layout_info.copies). */
enum {
    ZZ_COPY_GATHER = 1,  /* Q, K, V of model order into split order, before */
    ZZ_COPY_CONCAT = 2,  /* the two groups' outputs into the layer output, after */
    ZZ_COPY_SCATTER = 4, /* the output of split order back into model order, after */
};

/* Device buffers a layout adds when the plan has a mixed layer (bits of
 * zz_layout_info.buffers), beyond what every layout holds (one layer's
 * activations, the caches, the decode workspace, the chunked window). */
enum {
    ZZ_BUFFER_SPLIT_ACTIVATIONS = 1, /* Q, K, V and the output once more, in split order */
    ZZ_BUFFER_GROUP_OUTPUTS = 2,     /* one output per head group, for the concat */
    ZZ_BUFFER_HEAD_INDEX = 4,        /* per mixed layer: split position -> model head, query and KV */
};

typedef struct {
    const char *name;
    const char *alias;        /* another name accepted for it, or NULL */
    zz_layout_labels labels;
    int reordered;            /* mixed layers' weights permuted at load into split order */
    int fused;                /* a mixed layer's attention is one launch over both kinds (ZZ_OP_ATTN_MIXED) */
    unsigned copies, buffers;
    const char *plot_colour;  /* plots/common.gp's lcolor, "#rrggbb" */
    int plot_point;           /* plots/common.gp's lpoint: a filled gnuplot point type */
    uint32_t nvtx_argb;       /* the layout's range on an Nsight timeline */
} zz_layout_info;

const zz_layout_info *zz_layout_info_of(zz_layout layout);
const char *zz_layout_name(zz_layout layout);
int zz_layout_from_name(const char *name, zz_layout *out); /* a name or an alias; -1 if unknown */
int zz_layout_mixed(zz_layout layout);                      /* runs on per-head labels */

/* For help texts: every name accepted, aliases beside their layout. */
extern const char zz_layout_names[];

#endif
