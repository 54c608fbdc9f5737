// Bounds versioning of innermost loops.
//
// Wasm loads and stores are volatile in our IR (compiler.cpp,
// ModuleState::wasm_access) because an out-of-bounds access must trap
// exactly where the program makes it: LLVM may neither delete, merge nor
// reorder one. That also keeps the loop vectoriser and load optimisations
// out of the loops that matter most.
//
// An innermost loop whose every wasm memory address is an affine function
// of the iteration number gets a second copy, entered only when a check in
// the preheader proves that every access of every iteration up to the
// loop's maximal trip count lies inside memory 0's current size. In that
// copy no access can trap, so its accesses become ordinary ones that LLVM
// may reorder, combine or vectorise; the original copy runs otherwise.
// Memories never shrink, and the loops taken have no calls, so a size
// checked at loop entry holds for the whole loop.
//
// Address arithmetic is checked exactly: a wasm address is an i32 that
// wraps, so SCEV sees zext({start,+,step}) of a 32-bit recurrence; the
// check evaluates each recurrence at both ends in 128-bit arithmetic (64-bit
// when SCEV's ranges of its inputs prove that exact) and requires it to
// stay in [0, 2^32) (then it never wrapped, and being linear it lies between
// its ends), and the sum of the terms to stay in [0, size - access bytes].
// In the copy such an address becomes a 64-bit recurrence, so LLVM sees
// that a[i] and a[i+1] are neighbours.
//
// All of a module's data is one wasm memory, so LLVM cannot tell arrays
// apart and would guard a vectorised loop with overlap checks between every
// pair of accesses, which always fail for the interleaved a[2i], a[2i+1] of
// a loop the wasm producer unrolled. So accesses that differ only by a
// constant form a region; the check also proves each region that is
// written disjoint from every other region, and the copy tells LLVM so with
// alias scopes.
#include "llvm/compiler/bounds_versioning.h"

#include <llvm/ADT/MapVector.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/ConstantRange.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

namespace skiff::llvmjit {

namespace {

// Bigger loops are left alone: the copy doubles their code, and loops this
// large rarely vectorise. The check grows with the square of the regions.
constexpr unsigned kMaxLoopInstructions = 400;
constexpr size_t kMaxAccessGroups = 24;
constexpr size_t kMaxRegions = 8;
// Loops of fewer iterations skip the check (one compare instead): it would
// cost more than their accesses (nbody's pair loops ran 1.7x slower).
constexpr uint64_t kMinIterations = 16;

// One linear part of a memory offset: start + bias + k * step at iteration
// k (the bias split off, so that a[i] and a[i+1] share start and step).
// `wrap32`: an i32 recurrence seen through zext, which must not wrap.
struct Term {
  const llvm::SCEV* start;
  const llvm::SCEV* step;
  bool wrap32;
  int64_t bias;
  auto key() const { return std::make_tuple(start, step, wrap32); }
};

// What a group's offset is without its constants: accesses with equal
// shapes walk the same array.
struct Shape {
  std::vector<const llvm::SCEV*> invariant;  // loop-invariant, non-constant parts
  std::vector<std::tuple<const llvm::SCEV*, const llvm::SCEV*, bool>> terms;
  bool operator<(const Shape& other) const {
    return std::tie(invariant, terms) < std::tie(other.invariant, other.terms);
  }
};

// The accesses at one byte offset from memory 0's base (an i64 SCEV):
// constant + invariant parts + linear terms.
struct AccessGroup {
  int64_t constant = 0;
  std::vector<const llvm::SCEV*> invariant;
  std::vector<Term> terms;
  uint64_t bytes = 0;  // the widest access
  bool written = false;
  size_t region = 0;
};

struct Region {
  bool written = false;
  llvm::MDNode* scope = nullptr;
};

struct Access {
  llvm::Instruction* inst;
  const llvm::SCEV* offset;  // key of its group
};

class LoopVersioner {
 public:
  LoopVersioner(llvm::Function& fn, llvm::Value* mem0_base, llvm::LoopInfo& li, llvm::DominatorTree& dt,
                llvm::ScalarEvolution& se, BoundsVersioningOffsets offsets)
      : fn_(fn),
        base_(mem0_base),
        li_(li),
        dt_(dt),
        se_(se),
        offsets_(offsets),
        dl_(fn.getDataLayout()),
        mem0_kind_(fn.getContext().getMDKindID(kMem0BaseMetadata)) {}

  bool run(llvm::Loop* loop) {
    groups_.clear();
    regions_.clear();
    accesses_.clear();
    if (!loop->isLoopSimplifyForm() || loop->getExitBlock() == nullptr) return false;
    equality_count_.reset();
    const llvm::SCEV* max_backedges = se_.getSymbolicMaxBackedgeTakenCount(loop);
    if (llvm::isa<llvm::SCEVCouldNotCompute>(max_backedges)) max_backedges = count_to_equality(loop);
    if (max_backedges == nullptr) return false;
    // A loop that never runs kMinIterations times would never take its copy
    // (nbody's loops over 5 bodies): no copy to compile.
    if (auto* bound = llvm::dyn_cast<llvm::SCEVConstant>(se_.getConstantMaxBackedgeTakenCount(loop));
        bound != nullptr && bound->getAPInt().ult(kMinIterations - 1))
      return false;
    // A trip count that needs a division (a stride only known at run time,
    // as in a sieve's j += i) would cost more at every entry than the copy
    // saves: such loops do not vectorise anyway.
    if (llvm::SCEVExprContains(max_backedges, [](const llvm::SCEV* s) {
          auto* div = llvm::dyn_cast<llvm::SCEVUDivExpr>(s);
          auto* divisor = div != nullptr ? llvm::dyn_cast<llvm::SCEVConstant>(div->getRHS()) : nullptr;
          return div != nullptr && (divisor == nullptr || !divisor->getAPInt().isPowerOf2());
        }))
      return false;
    if (!collect_accesses(loop) || groups_.empty() || groups_.size() > kMaxAccessGroups) return false;
    if (!form_regions()) return false;

    llvm::BasicBlock* guard_bb = loop->getLoopPreheader();
    llvm::SCEVExpander expander(se_, dl_, "bounds");
    if (!expander.isSafeToExpandAt(max_backedges, guard_bb->getTerminator())) return false;
    llvm::Instruction* at = guard_bb->getTerminator();
    for (auto& [offset, group] : groups_) {
      for (const llvm::SCEV* s : group.invariant)
        if (!expander.isSafeToExpandAt(s, at)) return false;
      for (const Term& t : group.terms)
        if (!expander.isSafeToExpandAt(t.start, at) || !expander.isSafeToExpandAt(t.step, at)) return false;
    }

    // Values used after the loop reach their users through exit phis, to
    // which the copy adds its own incoming values.
    llvm::formLCSSA(*loop, dt_, &li_, &se_);
    llvm::Value* backedges = expander.expandCodeFor(max_backedges, max_backedges->getType(), at);
    llvm::IRBuilder<> guard(at);
    llvm::Value* long_enough =
        guard.CreateICmpUGE(backedges, llvm::ConstantInt::get(backedges->getType(), kMinIterations - 1));
    llvm::BasicBlock* check_bb = llvm::SplitBlock(guard_bb, guard_bb->getTerminator(), &dt_, &li_, nullptr,
                                                  loop->getHeader()->getName() + ".bounds");
    const std::vector<const AccessGroup*> checked = checked_groups();
    llvm::Value* in_bounds =
        emit_check(expander, check_bb->getTerminator(), backedges, checked, check_type(max_backedges, checked));

    llvm::BasicBlock* exit = loop->getExitBlock();
    llvm::BasicBlock* preheader = llvm::SplitBlock(check_bb, check_bb->getTerminator(), &dt_, &li_, nullptr,
                                                   loop->getHeader()->getName() + ".checked");
    llvm::ValueToValueMapTy vmap;
    llvm::SmallVector<llvm::BasicBlock*, 16> copy_blocks;
    llvm::Loop* copy =
        llvm::cloneLoopWithPreheader(preheader, check_bb, loop, vmap, ".inbounds", &li_, &dt_, copy_blocks);
    llvm::remapInstructionsInBlocks(copy_blocks, vmap);
    for (llvm::PHINode& phi : exit->phis()) {
      for (unsigned i = 0, n = phi.getNumIncomingValues(); i < n; ++i) {
        llvm::BasicBlock* from = phi.getIncomingBlock(i);
        if (!loop->contains(from)) continue;
        llvm::Value* v = phi.getIncomingValue(i);
        auto mapped = vmap.find(v);
        phi.addIncoming(mapped != vmap.end() ? static_cast<llvm::Value*>(mapped->second) : v,
                        llvm::cast<llvm::BasicBlock>(vmap[from]));
      }
    }
    llvm::Instruction* old_branch = check_bb->getTerminator();
    llvm::BranchInst::Create(copy->getLoopPreheader(), preheader, in_bounds, old_branch->getIterator());
    old_branch->eraseFromParent();
    old_branch = guard_bb->getTerminator();
    llvm::BranchInst::Create(check_bb, preheader, long_enough, old_branch->getIterator());
    old_branch->eraseFromParent();
    dt_.changeImmediateDominator(preheader, guard_bb);
    dt_.changeImmediateDominator(exit, guard_bb);
    llvm::formDedicatedExitBlocks(loop, &dt_, &li_, nullptr, true);
    llvm::formDedicatedExitBlocks(copy, &dt_, &li_, nullptr, true);

    rewrite_copy(copy, vmap);
    if (equality_count_) count_copy_iterations(copy, vmap, backedges);
    se_.forgetLoop(loop);
    return true;
  }

 private:
  // Every instruction of the loop that touches memory: wasm accesses go to
  // groups; other memory (allocas, runtime objects) cannot trap. Calls, and
  // pointers of unknown origin, disqualify the loop.
  bool collect_accesses(llvm::Loop* loop) {
    unsigned count = 0;
    const llvm::SCEV* base = se_.getSCEV(base_);
    for (llvm::BasicBlock* bb : loop->blocks()) {
      for (llvm::Instruction& inst : *bb) {
        if (++count > kMaxLoopInstructions) return false;
        if (auto* call = llvm::dyn_cast<llvm::CallBase>(&inst)) {
          bool pure = (llvm::isa<llvm::IntrinsicInst>(call) || call->isInlineAsm()) && !call->mayReadOrWriteMemory() &&
                      !call->mayHaveSideEffects();
          if (!pure) return false;
          continue;
        }
        if (!inst.mayReadOrWriteMemory()) continue;
        llvm::Value* pointer = llvm::getLoadStorePointerOperand(&inst);
        if (pointer == nullptr) return false;  // atomics, fences
        // The producer vectorised this loop already: little to gain, and
        // plain SIMD loads let instruction selection fuse dot products into
        // one serial chain (vpdpwssd), 1.5x slower on bench/simd.
        if (llvm::getLoadStoreType(&inst)->isVectorTy()) return false;
        const llvm::Value* object = llvm::getUnderlyingObject(pointer, 0);
        if (object != base_) {
          // Host memory cannot trap. A second load of the base, should a
          // pass ever duplicate it, would hide wasm accesses: give up then.
          auto* load = llvm::dyn_cast<llvm::LoadInst>(object);
          if (load != nullptr && load->getMetadata(mem0_kind_) != nullptr) return false;
          if (load != nullptr || llvm::isa<llvm::AllocaInst>(object) || llvm::isa<llvm::Argument>(object)) continue;
          return false;
        }
        const llvm::SCEV* offset = se_.getMinusSCEV(se_.getSCEV(pointer), base);
        auto [it, added] = groups_.try_emplace(offset);
        if (added && !decompose(offset, loop, it->second)) return false;
        it->second.bytes = std::max<uint64_t>(it->second.bytes, dl_.getTypeStoreSize(llvm::getLoadStoreType(&inst)));
        it->second.written |= llvm::isa<llvm::StoreInst>(inst);
        accesses_.push_back({&inst, offset});
      }
    }
    return true;
  }

  bool form_regions() {
    std::map<Shape, size_t> by_shape;
    for (auto& [offset, group] : groups_) {
      Shape shape;
      shape.invariant = group.invariant;
      std::sort(shape.invariant.begin(), shape.invariant.end());
      for (const Term& t : group.terms) shape.terms.push_back(t.key());
      std::sort(shape.terms.begin(), shape.terms.end());
      auto [it, added] = by_shape.try_emplace(std::move(shape), regions_.size());
      if (added) regions_.emplace_back();
      group.region = it->second;
    }
    for (const auto& [offset, group] : groups_) regions_[group.region].written |= group.written;
    return regions_.size() <= kMaxRegions;
  }

  // `i += C until i == n` with C a power of two: SCEV counts it only when it
  // can prove n - start a multiple of C (not so in a loop an OSR copy
  // resumes mid-way). Its latch is its only exit, so it runs exactly
  // (n - start) / C more times when that difference is a multiple of C
  // (modulo 2^bits, since C divides 2^bits), which the check then tests;
  // otherwise it never ends by that exit and the original copy runs.
  const llvm::SCEV* count_to_equality(llvm::Loop* loop) {
    llvm::BasicBlock* latch = loop->getLoopLatch();
    if (latch == nullptr || loop->getExitingBlock() != latch) return nullptr;
    auto* branch = llvm::dyn_cast<llvm::BranchInst>(latch->getTerminator());
    if (branch == nullptr || !branch->isConditional()) return nullptr;
    auto* compare = llvm::dyn_cast<llvm::ICmpInst>(branch->getCondition());
    if (compare == nullptr || !compare->isEquality()) return nullptr;
    bool exits_on_true = !loop->contains(branch->getSuccessor(0));
    if (exits_on_true != (compare->getPredicate() == llvm::ICmpInst::ICMP_EQ)) return nullptr;
    const llvm::SCEV* lhs = se_.getSCEV(compare->getOperand(0));
    const llvm::SCEV* rhs = se_.getSCEV(compare->getOperand(1));
    if (!llvm::isa<llvm::SCEVAddRecExpr>(lhs)) std::swap(lhs, rhs);
    Term iv{};
    if (!affine_in(lhs, loop, iv) || !invariant(rhs, loop)) return nullptr;
    auto* step = llvm::dyn_cast<llvm::SCEVConstant>(iv.step);
    if (step == nullptr || step->getAPInt().isZero()) return nullptr;
    bool down = step->getAPInt().isNegative();
    llvm::APInt magnitude = down ? -step->getAPInt() : step->getAPInt();
    if (!magnitude.isPowerOf2() || magnitude.getBitWidth() > 64) return nullptr;
    const llvm::SCEV* distance = down ? se_.getMinusSCEV(iv.start, rhs) : se_.getMinusSCEV(rhs, iv.start);
    equality_count_ = EqualityCount{distance, magnitude.getZExtValue() - 1, compare};
    return se_.getUDivExpr(distance, se_.getConstant(magnitude));
  }

  bool invariant(const llvm::SCEV* s, const llvm::Loop* loop) { return se_.isLoopInvariant(s, loop); }

  bool affine_in(const llvm::SCEV* s, const llvm::Loop* loop, Term& term) {
    auto* rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(s);
    if (rec == nullptr || rec->getLoop() != loop || !rec->isAffine()) return false;
    term.start = rec->getStart();
    term.step = rec->getStepRecurrence(se_);
    return invariant(term.start, loop) && invariant(term.step, loop);
  }

  bool decompose(const llvm::SCEV* s, const llvm::Loop* loop, AccessGroup& group) {
    if (auto* c = llvm::dyn_cast<llvm::SCEVConstant>(s)) {
      group.constant += c->getAPInt().getSExtValue();
      return true;
    }
    if (invariant(s, loop)) {
      group.invariant.push_back(s);
      return true;
    }
    if (auto* sum = llvm::dyn_cast<llvm::SCEVAddExpr>(s)) {
      for (const llvm::SCEV* op : sum->operands())
        if (!decompose(op, loop, group)) return false;
      return true;
    }
    Term term{};
    if (affine_in(s, loop, term)) {
      term.start = split_constant(term.start, term.bias);
      group.terms.push_back(term);
      return true;
    }
    if (auto* zext = llvm::dyn_cast<llvm::SCEVZeroExtendExpr>(s)) {
      const llvm::SCEV* narrow = zext->getOperand();
      if (se_.getTypeSizeInBits(narrow->getType()) == 32 && affine_in(narrow, loop, term)) {
        term.wrap32 = true;
        term.start = split_constant(term.start, term.bias);
        group.terms.push_back(term);
        return true;
      }
    }
    return false;
  }

  // s == result + bias (modulo its width), the constant taken from a sum
  // or from the start of an outer loop's recurrence. For a wrap32 term the
  // check proves that start + bias did not wrap either.
  const llvm::SCEV* split_constant(const llvm::SCEV* s, int64_t& bias) {
    if (auto* sum = llvm::dyn_cast<llvm::SCEVAddExpr>(s)) {
      if (auto* c = llvm::dyn_cast<llvm::SCEVConstant>(sum->getOperand(0))) {
        bias += c->getAPInt().getSExtValue();
        return se_.getMinusSCEV(s, c);
      }
    }
    if (auto* rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(s); rec != nullptr && rec->isAffine()) {
      const llvm::SCEV* start = split_constant(rec->getStart(), bias);
      return se_.getAddRecExpr(start, rec->getStepRecurrence(se_), rec->getLoop(), llvm::SCEV::FlagAnyWrap);
    }
    return s;
  }

  // The groups the check must test. Groups of one region with at most one
  // term differ only in constants: each condition on a group (its term
  // stays in [0, 2^32), its accesses in [0, size]) is monotone in its
  // bias or in constant + bias (+ bytes), so the groups at the extremes of
  // those imply the rest, and span the region for the overlap tests. A
  // loop the producer unrolled 8 times then tests 2 groups instead of 8.
  std::vector<const AccessGroup*> checked_groups() const {
    std::vector<const AccessGroup*> checked;
    std::vector<std::array<const AccessGroup*, 4>> extremes(regions_.size());  // min and max bias, lowest, highest
    std::vector<bool> one_term(regions_.size(), true);
    for (const auto& [offset, group] : groups_) one_term[group.region] = one_term[group.region] && group.terms.size() <= 1;
    auto bias = [](const AccessGroup* g) { return g->terms.empty() ? 0 : g->terms[0].bias; };
    auto low = [&](const AccessGroup* g) { return g->constant + bias(g); };
    auto high = [&](const AccessGroup* g) { return low(g) + static_cast<int64_t>(g->bytes); };
    for (const auto& [offset, group] : groups_) {
      if (!one_term[group.region]) {
        checked.push_back(&group);
        continue;
      }
      auto& [min_bias, max_bias, lowest, highest] = extremes[group.region];
      if (min_bias == nullptr) {
        min_bias = max_bias = lowest = highest = &group;
        continue;
      }
      if (bias(&group) < bias(min_bias)) min_bias = &group;
      if (bias(&group) > bias(max_bias)) max_bias = &group;
      if (low(&group) < low(lowest)) lowest = &group;
      if (high(&group) > high(highest)) highest = &group;
    }
    for (const auto& four : extremes)
      for (const AccessGroup* g : four)
        if (g != nullptr && std::find(checked.begin(), checked.end(), g) == checked.end()) checked.push_back(g);
    return checked;
  }

  // i64 when SCEV's ranges of the check's inputs prove that none of its
  // sums and products (emit_check, mirrored step by step) leaves i64, else
  // i128. Instruction selection splits every i128 operation in pieces: it
  // cost nbody's first compile 14 of its 60 ms.
  llvm::Type* check_type(const llvm::SCEV* max_backedges, const std::vector<const AccessGroup*>& checked) {
    constexpr unsigned kBits = 128;
    const llvm::ConstantRange i64_values(llvm::APInt::getSignedMinValue(64).sext(kBits),
                                         llvm::APInt::getSignedMaxValue(64).sext(kBits) + 1);
    bool fits = true;
    auto track = [&](llvm::ConstantRange r) {
      fits = fits && i64_values.contains(r);
      return r;
    };
    auto wide = [&](const llvm::SCEV* s, bool is_signed) {
      return track(is_signed ? se_.getSignedRange(s).signExtend(kBits) : se_.getUnsignedRange(s).zeroExtend(kBits));
    };
    auto constant = [&](int64_t v) { return llvm::ConstantRange(llvm::APInt(kBits, v, true)); };
    const llvm::ConstantRange k_max = wide(max_backedges, false);
    for (const AccessGroup* tested : checked) {
      const AccessGroup& group = *tested;
      llvm::ConstantRange lo = constant(group.constant);
      for (const llvm::SCEV* s : group.invariant) lo = track(lo.add(wide(s, true)));
      llvm::ConstantRange hi = lo;
      for (const Term& t : group.terms) {
        llvm::ConstantRange first = track(wide(t.start, !t.wrap32).add(constant(t.bias)));
        llvm::ConstantRange last = track(first.add(track(wide(t.step, true).multiply(k_max))));
        lo = track(lo.add(first.smin(last)));
        hi = track(hi.add(first.smax(last)));
      }
      (void)track(hi.add(constant(static_cast<int64_t>(group.bytes))));
    }
    llvm::LLVMContext& ctx = fn_.getContext();
    return fits ? llvm::Type::getInt64Ty(ctx) : llvm::Type::getInt128Ty(ctx);
  }

  // i1: every access of every iteration is inside memory 0, and regions
  // written do not overlap other regions. Memory sizes are below 2^63, so
  // signed comparisons with one hold in i64 too.
  llvm::Value* emit_check(llvm::SCEVExpander& expander, llvm::Instruction* at, llvm::Value* max_backedges,
                          const std::vector<const AccessGroup*>& checked, llvm::Type* wide_type) {
    llvm::IRBuilder<> b(at);
    auto wide = [&](const llvm::SCEV* s, bool is_signed) {
      llvm::Value* v = expander.expandCodeFor(s, s->getType(), at);
      b.SetInsertPoint(at);
      return is_signed ? b.CreateSExtOrTrunc(v, wide_type) : b.CreateZExtOrTrunc(v, wide_type);
    };
    auto constant = [&](int64_t v) { return llvm::ConstantInt::get(wide_type, v, true); };
    llvm::Value* k_max = b.CreateZExtOrTrunc(max_backedges, wide_type);
    // The instance: what the load of memory 0's base reads from.
    llvm::Value* instance =
        llvm::getUnderlyingObject(llvm::cast<llvm::LoadInst>(base_)->getPointerOperand());
    llvm::Value* vector_data = b.CreateLoad(
        b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), instance, offsets_.instance_memories));
    llvm::Value* memory = b.CreateLoad(b.getPtrTy(), vector_data);
    llvm::Value* size = b.CreateZExtOrTrunc(
        b.CreateLoad(b.getInt64Ty(), b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), memory, offsets_.memory_size)),
        wide_type);
    llvm::Value* zero = constant(0);
    llvm::Value* ok = b.getTrue();
    if (equality_count_) {
      const llvm::SCEV* d = equality_count_->distance;
      llvm::Value* distance = expander.expandCodeFor(d, d->getType(), at);
      b.SetInsertPoint(at);
      llvm::Value* rest = b.CreateAnd(distance, llvm::ConstantInt::get(distance->getType(), equality_count_->mask));
      ok = b.CreateAnd(ok, b.CreateICmpEQ(rest, llvm::ConstantInt::get(distance->getType(), 0)));
    }
    std::vector<llvm::Value*> region_lo(regions_.size()), region_end(regions_.size());
    for (const AccessGroup* tested : checked) {
      const AccessGroup& group = *tested;
      llvm::Value* lo = constant(group.constant);
      for (const llvm::SCEV* s : group.invariant) lo = b.CreateAdd(lo, wide(s, true));
      llvm::Value* hi = lo;
      for (const Term& t : group.terms) {
        llvm::Value* first = b.CreateAdd(wide(t.start, !t.wrap32), constant(t.bias));
        llvm::Value* last = b.CreateAdd(first, b.CreateMul(wide(t.step, true), k_max));
        llvm::Value* low = b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, first, last);
        llvm::Value* high = b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, first, last);
        if (t.wrap32) {
          ok = b.CreateAnd(ok, b.CreateICmpSGE(low, zero));
          ok = b.CreateAnd(ok, b.CreateICmpSLE(high, constant(0xFFFFFFFFll)));
        }
        lo = b.CreateAdd(lo, low);
        hi = b.CreateAdd(hi, high);
      }
      llvm::Value* end = b.CreateAdd(hi, constant(static_cast<int64_t>(group.bytes)));
      ok = b.CreateAnd(ok, b.CreateICmpSGE(lo, zero));
      ok = b.CreateAnd(ok, b.CreateICmpSLE(end, size));
      llvm::Value*& r_lo = region_lo[group.region];
      llvm::Value*& r_end = region_end[group.region];
      r_lo = r_lo == nullptr ? lo : b.CreateBinaryIntrinsic(llvm::Intrinsic::smin, r_lo, lo);
      r_end = r_end == nullptr ? end : b.CreateBinaryIntrinsic(llvm::Intrinsic::smax, r_end, end);
    }
    for (size_t x = 0; x < regions_.size(); ++x) {
      for (size_t y = x + 1; y < regions_.size(); ++y) {
        if (!regions_[x].written && !regions_[y].written) continue;
        llvm::Value* apart =
            b.CreateOr(b.CreateICmpSLE(region_end[x], region_lo[y]), b.CreateICmpSLE(region_end[y], region_lo[x]));
        ok = b.CreateAnd(ok, apart);
      }
    }
    return ok;
  }

  // The copy of a loop counted by count_to_equality exits when a counter
  // from 0 reaches the count: the same iteration (the check proved the
  // distance a multiple of the stride), and one the vectoriser can count.
  void count_copy_iterations(llvm::Loop* copy, llvm::ValueToValueMapTy& vmap, llvm::Value* backedges) {
    auto* compare = llvm::cast<llvm::ICmpInst>(vmap[equality_count_->exit]);
    llvm::Type* type = backedges->getType();
    llvm::SCEVExpander expander(se_, dl_, "counted");
    const llvm::SCEV* counter = se_.getAddRecExpr(se_.getZero(type), se_.getOne(type), copy, llvm::SCEV::FlagAnyWrap);
    compare->setOperand(0, expander.expandCodeFor(counter, type, compare));
    compare->setOperand(1, backedges);
  }

  // In the copy every access is in bounds: plain, addressed by a 64-bit
  // recurrence where the wasm address was a 32-bit one, and scoped by
  // region.
  void rewrite_copy(llvm::Loop* copy, llvm::ValueToValueMapTy& vmap) {
    llvm::LLVMContext& ctx = fn_.getContext();
    llvm::MDBuilder md(ctx);
    llvm::MDNode* domain = md.createAnonymousAliasScopeDomain("skiff.regions");
    for (Region& r : regions_) r.scope = md.createAnonymousAliasScope(domain);
    std::vector<llvm::MDNode*> scope_of(regions_.size()), noalias_of(regions_.size());
    for (size_t x = 0; x < regions_.size(); ++x) {
      std::vector<llvm::Metadata*> apart;
      for (size_t y = 0; y < regions_.size(); ++y)
        if (y != x && (regions_[x].written || regions_[y].written)) apart.push_back(regions_[y].scope);
      scope_of[x] = llvm::MDNode::get(ctx, {regions_[x].scope});
      noalias_of[x] = apart.empty() ? nullptr : llvm::MDNode::get(ctx, apart);
    }

    llvm::SCEVExpander expander(se_, dl_, "inbounds");
    llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
    llvm::Type* i8 = llvm::Type::getInt8Ty(ctx);
    for (const Access& access : accesses_) {
      auto* inst = llvm::cast<llvm::Instruction>(vmap[access.inst]);
      if (auto* load = llvm::dyn_cast<llvm::LoadInst>(inst)) load->setVolatile(false);
      else llvm::cast<llvm::StoreInst>(inst)->setVolatile(false);
      const AccessGroup& group = groups_.find(access.offset)->second;
      inst->setMetadata(llvm::LLVMContext::MD_alias_scope, scope_of[group.region]);
      if (noalias_of[group.region] != nullptr)
        inst->setMetadata(llvm::LLVMContext::MD_noalias, noalias_of[group.region]);
      if (std::none_of(group.terms.begin(), group.terms.end(), [](const Term& t) { return t.wrap32; })) continue;
      llvm::SmallVector<const llvm::SCEV*, 4> parts(group.invariant.begin(), group.invariant.end());
      parts.push_back(se_.getConstant(i64, group.constant, true));
      for (const Term& t : group.terms) {
        const llvm::SCEV* bias = se_.getConstant(i64, t.bias, true);
        if (t.wrap32)
          parts.push_back(se_.getAddRecExpr(se_.getAddExpr(se_.getZeroExtendExpr(t.start, i64), bias),
                                            se_.getSignExtendExpr(t.step, i64), copy, llvm::SCEV::FlagNSW));
        else
          parts.push_back(se_.getAddRecExpr(se_.getAddExpr(t.start, bias), t.step, copy, llvm::SCEV::FlagAnyWrap));
      }
      llvm::Value* offset = expander.expandCodeFor(se_.getAddExpr(parts), i64, inst);
      // In bounds of the memory's reservation: the check proved it.
      llvm::Value* pointer = llvm::GetElementPtrInst::CreateInBounds(i8, base_, {offset}, "", inst->getIterator());
      inst->setOperand(llvm::isa<llvm::LoadInst>(inst) ? 0 : 1, pointer);
    }
  }

  llvm::Function& fn_;
  llvm::Value* base_;
  llvm::LoopInfo& li_;
  llvm::DominatorTree& dt_;
  llvm::ScalarEvolution& se_;
  BoundsVersioningOffsets offsets_;
  const llvm::DataLayout& dl_;
  unsigned mem0_kind_;
  // By offset expression, in the order the accesses come: the check and the
  // regions come out the same in every compile (a map by address did not).
  llvm::MapVector<const llvm::SCEV*, AccessGroup> groups_;
  std::vector<Region> regions_;
  std::vector<Access> accesses_;
  // Set by count_to_equality: the count holds when distance & mask == 0.
  struct EqualityCount {
    const llvm::SCEV* distance;
    uint64_t mask;
    llvm::ICmpInst* exit;  // the latch's test
  };
  std::optional<EqualityCount> equality_count_;
};

// Loaded in the entry block, but passes may sink it towards its users.
llvm::Instruction* find_mem0_base(llvm::Function& fn) {
  unsigned kind = fn.getContext().getMDKindID(kMem0BaseMetadata);
  for (llvm::BasicBlock& bb : fn)
    for (llvm::Instruction& inst : bb)
      if (llvm::isa<llvm::LoadInst>(inst) && inst.getMetadata(kind) != nullptr) return &inst;
  return nullptr;
}

}  // namespace

llvm::PreservedAnalyses BoundsVersioningPass::run(llvm::Function& fn, llvm::FunctionAnalysisManager& fam) {
  if (fn.hasFnAttribute(kNoBoundsVersioningAttribute)) return llvm::PreservedAnalyses::all();
  auto& li = fam.getResult<llvm::LoopAnalysis>(fn);
  if (li.empty()) return llvm::PreservedAnalyses::all();
  llvm::Instruction* base = find_mem0_base(fn);
  // The check reads memory 0's size through the instance the base comes from.
  if (base == nullptr ||
      !llvm::isa<llvm::Argument>(llvm::getUnderlyingObject(llvm::cast<llvm::LoadInst>(base)->getPointerOperand())))
    return llvm::PreservedAnalyses::all();
  auto& dt = fam.getResult<llvm::DominatorTreeAnalysis>(fn);
  auto& se = fam.getResult<llvm::ScalarEvolutionAnalysis>(fn);
  std::vector<llvm::Loop*> innermost;
  for (llvm::Loop* loop : li.getLoopsInPreorder())
    if (loop->isInnermost()) innermost.push_back(loop);
  LoopVersioner versioner(fn, base, li, dt, se, offsets_);
  uint32_t count = 0;
  for (llvm::Loop* loop : innermost) count += versioner.run(loop) ? 1 : 0;
  if (count == 0) return llvm::PreservedAnalyses::all();
  if (versioned_ != nullptr) *versioned_ += count;
  llvm::PreservedAnalyses kept;
  kept.preserve<llvm::LoopAnalysis>();
  kept.preserve<llvm::DominatorTreeAnalysis>();
  return kept;
}

}  // namespace skiff::llvmjit
