{
  "variables": {
    "common_flags": ["-O3", "-fno-math-errno", "-fno-semantic-interposition", "-std=c++17"]
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    "cflags_cc": ["<@(common_flags)", "-fexceptions"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "OTHER_CPLUSPLUSFLAGS": ["<@(common_flags)"]
    },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
  },
  "targets": [
    {
      "target_name": "emb_bench",
      "sources": [
        "native/addon.cc",
        "native/score_cpu.cc",
        "native/cpu/bf16_prepare.cc",
        "native/cpu/bound_check.cc",
        "native/cpu/norms.cc",
        "native/cpu/pass.cc",
        "native/cpu/plan.cc",
        "native/cpu/thresholds.cc",
        "native/cpu/topk.cc",
        "native/cpu/two_stage.cc",
        "native/cpu/quantized.cc",
        "native/cpu/validate.cc",
        "native/cpu_features.cc",
        "native/kernels_generic.cc",
        "native/quant_generic.cc",
        "native/cuda_stub.cc"
      ],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["kernels_avx2", "kernels_avx512", "kernels_avx512bf16", "quant_avx2", "quant_avx512"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "kernels_avx2",
          "type": "static_library",
          "sources": ["native/kernels_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] }
        },
        {
          "target_name": "kernels_avx512",
          "type": "static_library",
          "sources": ["native/kernels_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mfma", "-Wno-maybe-uninitialized"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mfma"] }
        },
        {
          "target_name": "kernels_avx512bf16",
          "type": "static_library",
          "sources": ["native/kernels_avx512bf16.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512bf16"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512bf16"] }
        },
        {
          "target_name": "quant_avx2",
          "type": "static_library",
          "sources": ["native/quant_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mpopcnt"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mpopcnt"] }
        },
        {
          "target_name": "quant_avx512",
          "type": "static_library",
          "sources": ["native/quant_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vpopcntdq", "-mavx512vnni"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vpopcntdq", "-mavx512vnni"] }
        }
      ]
    }]
  ]
}
