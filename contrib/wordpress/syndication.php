<?php
/**
 * Plugin Name: syndication (partner side)
 * Description: Lets the syndication pipeline find the copy it made of a post (so a crash can never
 *              make a duplicate) and carry the SEO choice the partner agreed to.
 * Version: 1.0
 *
 * Install: copy this file to wp-content/mu-plugins/ (must-use plugins need no activation).
 *
 * - post meta `syndication_source_guid`: the original post's identity + language, written by the
 *   pipeline; `GET /wp-json/wp/v2/posts?source_guid=...` (authenticated) finds posts by it.
 * - post meta `syndication_canonical`: when set, the page's <link rel="canonical"> points there
 *   (the original) instead of to itself.
 * - post meta `syndication_robots`: `noindex` adds a robots noindex to the page.
 */

add_action('init', function () {
    $can_edit = function () { return current_user_can('edit_posts'); };
    foreach (['syndication_source_guid', 'syndication_canonical', 'syndication_robots'] as $key) {
        register_post_meta('post', $key, [
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'auth_callback' => $can_edit,
        ]);
    }
});

add_filter('rest_post_collection_params', function ($params) {
    $params['source_guid'] = [
        'description' => 'Limit results to the copy of this syndicated source post.',
        'type' => 'string',
    ];
    return $params;
});

add_filter('rest_post_query', function ($args, $request) {
    $guid = $request->get_param('source_guid');
    if (is_string($guid) && $guid !== '') {
        $args['meta_query'] = [['key' => 'syndication_source_guid', 'value' => $guid]];
    }
    return $args;
}, 10, 2);

add_action('wp', function () {
    if (!is_singular('post')) {
        return;
    }
    $canonical = get_post_meta(get_queried_object_id(), 'syndication_canonical', true);
    if (is_string($canonical) && $canonical !== '') {
        remove_action('wp_head', 'rel_canonical');
        add_action('wp_head', function () use ($canonical) {
            echo '<link rel="canonical" href="' . esc_url($canonical) . '" />' . "\n";
        });
    }
});

add_filter('wp_robots', function ($robots) {
    if (is_singular('post')
        && get_post_meta(get_queried_object_id(), 'syndication_robots', true) === 'noindex') {
        $robots['noindex'] = true;
        $robots['follow'] = true;
    }
    return $robots;
});
