% rebase('base.tpl')
<section class="panel narrow center">
  <p class="eyebrow">Download</p>
  <h1>{{heading}}</h1>
  <p>{{message}}</p>
  <p><a class="button" href="/purchases">Your purchases</a></p>
</section>
