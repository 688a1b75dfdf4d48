/* The table of head layouts (layouts.h). */
#include "layouts.h"

#include <string.h>

static const zz_layout_info layouts[ZZ_LAYOUTS] = {
    [ZZ_LAYOUT_FULL] = {.name = "full", .labels = ZZ_LABELS_NONE_RETRIEVAL,
                        .plot_colour = "#222222", .plot_point = 5, .nvtx_argb = 0xFF4C72B0},
    [ZZ_LAYOUT_STREAMING] = {.name = "streaming", .labels = ZZ_LABELS_NONE_STREAMING,
                             .plot_colour = "#8c8c8c", .plot_point = 13, .nvtx_argb = 0xFF55A868},
    /* DuoAttention as it runs: reorder_linear_weights at load, one output
     * per group, joined by a concatenation. */
    [ZZ_LAYOUT_DUO_CAT] = {.name = "duo-cat", .alias = "duo", .labels = ZZ_LABELS_PER_HEAD, .reordered = 1,
                           .copies = ZZ_COPY_CONCAT, .buffers = ZZ_BUFFER_GROUP_OUTPUTS,
                           .plot_colour = "#d62728", .plot_point = 7, .nvtx_argb = 0xFFC44E52},
    [ZZ_LAYOUT_DUO_GATHER] = {.name = "duo-gather", .labels = ZZ_LABELS_PER_HEAD,
                              .copies = ZZ_COPY_GATHER | ZZ_COPY_SCATTER,
                              .buffers = ZZ_BUFFER_SPLIT_ACTIVATIONS | ZZ_BUFFER_HEAD_INDEX,
                              .plot_colour = "#9467bd", .plot_point = 11, .nvtx_argb = 0xFFDD8452},
    /* The best a two-launch split can do: both write their slice of one output. */
    [ZZ_LAYOUT_DUO_SLICES] = {.name = "duo-slices", .labels = ZZ_LABELS_PER_HEAD, .reordered = 1,
                              .plot_colour = "#ff7f0e", .plot_point = 9, .nvtx_argb = 0xFF8172B3},
    /* The floor of the split (issue 15): one launch serves each head in its
     * own mode, straight into the (load-time reordered) output. */
    [ZZ_LAYOUT_DUO_FUSED] = {.name = "duo-fused", .labels = ZZ_LABELS_PER_HEAD, .reordered = 1, .fused = 1,
                             .plot_colour = "#2ca02c", .plot_point = 3, .nvtx_argb = 0xFF2CA02C},
    [ZZ_LAYOUT_ZIGZAG] = {.name = "zigzag", .labels = ZZ_LABELS_PER_LAYER,
                          .plot_colour = "#1f77b4", .plot_point = 15, .nvtx_argb = 0xFF937860},
};

const char zz_layout_names[] = "full, streaming, duo (= duo-cat), duo-cat, duo-gather, duo-slices, duo-fused, zigzag";

const zz_layout_info *zz_layout_info_of(zz_layout layout) { return &layouts[layout]; }

const char *zz_layout_name(zz_layout layout) { return layouts[layout].name; }

int zz_layout_mixed(zz_layout layout) { return layouts[layout].labels == ZZ_LABELS_PER_HEAD; }

int zz_layout_from_name(const char *name, zz_layout *out) {
    for (int l = 0; l < ZZ_LAYOUTS; l++) {
        if (!strcmp(name, layouts[l].name) || (layouts[l].alias && !strcmp(name, layouts[l].alias))) {
            *out = (zz_layout)l;
            return 0;
        }
    }
    return -1;
}
